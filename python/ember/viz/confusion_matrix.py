"""confusion_matrix (scikit-learn's numbers and arguments) and plot_confusion_matrix."""
import numpy as np

import ember
from ._figure import finish, new_figure

_NORMALIZE = (None, "true", "pred", "all")


def _labels_1d(op, name, y):
    array = y.detach().numpy() if isinstance(y, ember.Tensor) else np.asarray(y)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        hint = (" (for scores or one-hot rows, pass their argmax over the class axis)"
                if array.ndim == 2 else "")
        raise ValueError(f"{op}: {name} must be 1-D, one label per sample. Received shape "
                         f"{array.shape}{hint}")
    return array


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """C[i, j]: how many samples of true class ``labels[i]`` were predicted as ``labels[j]``,
    as ``sklearn.metrics.confusion_matrix`` computes it (same arguments, numbers and dtypes).

    ``labels``: the classes and their order (default: the sorted labels found in y_true and
    y_pred; samples with other labels are not counted). ``sample_weight``: a weight per sample.
    ``normalize``: None (counts), "true" (each row sums to 1), "pred" (each column), "all".
    Inputs are arrays, lists or ember Tensors of labels (numbers or strings).
    """
    return _confusion("confusion_matrix", y_true, y_pred, labels, sample_weight, normalize)[0]


def _confusion(op, y_true, y_pred, labels, sample_weight, normalize):
    """(the matrix, its labels)."""
    y_true, y_pred = _labels_1d(op, "y_true", y_true), _labels_1d(op, "y_pred", y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"{op}: y_true and y_pred have different lengths: {len(y_true)} and "
                         f"{len(y_pred)}")
    if normalize not in _NORMALIZE:
        raise ValueError(f"{op}: normalize must be one of {{'true', 'pred', 'all', None}}. "
                         f"Received: normalize={normalize!r}")
    if (y_true.dtype.kind in "OSU") != (y_pred.dtype.kind in "OSU") and len(y_true):
        raise ValueError(f"{op}: y_true and y_pred mix string and number labels "
                         f"({y_true.dtype} and {y_pred.dtype})")
    if labels is None:
        labels = np.unique(np.concatenate([y_true, y_pred]))
    else:
        labels = _labels_1d(op, "labels", labels)
        if labels.size == 0:
            raise ValueError(f"{op}: 'labels' should contain at least one label.")
        if len(np.unique(labels)) != len(labels):
            raise ValueError(f"{op}: 'labels' should be unique. Received: {labels.tolist()}")
        if len(y_true) and not np.isin(y_true, labels).any():
            raise ValueError(f"{op}: At least one label specified must be in y_true")
    weights = _sample_weight(op, sample_weight, len(y_true))
    true_index, true_known = _positions(labels, y_true)
    pred_index, pred_known = _positions(labels, y_pred)
    known = true_known & pred_known
    dtype = np.int64 if weights.dtype.kind in "iub" else np.float64
    matrix = np.zeros((len(labels), len(labels)), dtype=dtype)
    np.add.at(matrix, (true_index[known], pred_index[known]), weights[known].astype(dtype))
    if normalize is None:
        return matrix, labels
    with np.errstate(all="ignore"):
        if normalize == "true":
            matrix = matrix / matrix.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            matrix = matrix / matrix.sum(axis=0, keepdims=True)
        else:
            matrix = matrix / matrix.sum()
    return np.nan_to_num(matrix), labels  # (a class never seen: zeros, as scikit-learn has)


def _sample_weight(op, sample_weight, n):
    if sample_weight is None:
        return np.ones(n, dtype=np.int64)
    weights = _labels_1d(op, "sample_weight", sample_weight)
    if len(weights) != n or weights.dtype.kind not in "iubf":
        raise ValueError(f"{op}: sample_weight must hold one number per sample ({n}). "
                         f"Received shape {weights.shape}, dtype {weights.dtype}")
    return weights


def _positions(labels, values):
    """Each value's index in ``labels`` and whether it is there at all."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    at = np.clip(np.searchsorted(sorted_labels, values), 0, len(labels) - 1)
    return order[at], sorted_labels[at] == values


def plot_confusion_matrix(y_true, y_pred, labels=None, normalize=None, path=None):
    """The confusion matrix as a heat map with the count (or fraction) in each cell, true
    classes down, predicted classes across (``labels`` and ``normalize`` as in
    confusion_matrix). Writes a PNG to ``path`` when given; returns the matplotlib Figure."""
    matrix, labels = _confusion("plot_confusion_matrix", y_true, y_pred, labels, None, normalize)
    n = len(matrix)
    if n == 0:
        raise ValueError("plot_confusion_matrix: nothing to draw: y_true and y_pred are empty")
    side = min(10.0, max(4.0, 0.5 * n + 2.0))
    figure = new_figure("plot_confusion_matrix", side + 2.0, side)  # (room for the colour bar)
    axes = figure.add_subplot(1, 1, 1)
    drawn = axes.imshow(matrix, cmap="Blues", interpolation="nearest")
    colorbar = figure.colorbar(drawn, ax=axes)
    if normalize is None:  # counts: whole-number ticks
        from matplotlib.ticker import MaxNLocator  # (new_figure has loaded matplotlib)
        colorbar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ticks = np.arange(n)
    names = [str(v) for v in np.asarray(labels).tolist()]
    axes.set_xticks(ticks, names, rotation=45 if max(map(len, names)) > 3 else 0)
    axes.set_yticks(ticks, names)
    axes.set_xlabel("predicted label")
    axes.set_ylabel("true label")
    axes.set_title("confusion matrix" + (f" (normalized over {normalize})" if normalize else ""))
    if n <= 30:  # numbers stay readable
        threshold = (matrix.max() + matrix.min()) / 2.0
        for (i, j), value in np.ndenumerate(matrix):
            text = f"{value:.2f}" if normalize else f"{value:g}"
            axes.text(j, i, text, ha="center", va="center", fontsize=8,
                      color="white" if value > threshold else "black")
    return finish(figure, path)
