"""plot_weight_histograms: the distribution of each layer's weights and biases."""
import numpy as np

from ..nn.modules.utils import _is_int
from ._figure import finish, new_figure, panel_grid
from ._models import check_model, is_keras

_OP = "plot_weight_histograms"


def layer_weights(model):
    """[(layer title, [(weight name, values)])] for every layer holding parameters of its own,
    in module order; a parameter two layers share counts once. Keras layers go by their names
    and weight names ("kernel", "bias"), other modules by path and attribute."""
    out, seen = [], set()
    for path, module in model.named_modules():
        own = []
        for attr, param in module.named_parameters(recurse=False):
            if id(param) not in seen:
                seen.add(id(param))
                name = getattr(param, "name", None) if is_keras(module) else None
                own.append((name or attr, param.detach().numpy().ravel()))
        if own:
            label = module.name if is_keras(module) else (path or "model")
            out.append((f"{label} ({type(module).__name__})", own))
    return out


def plot_weight_histograms(model, path=None, *, bins=40):
    """One panel per layer with a histogram (a density) of each of its parameters (weight,
    bias, ...), of an ember nn.Module or a Keras model. Writes a PNG to ``path`` when given;
    returns the matplotlib Figure."""
    check_model(_OP, model)
    if not _is_int(bins) or bins < 1:
        raise ValueError(f"{_OP}: bins must be a positive integer. Received: bins={bins!r}")
    layers = layer_weights(model)
    if not layers:
        raise ValueError(f"{_OP}: {type(model).__name__} has no weights (a Keras model makes "
                         "them when it is built or first called)")
    rows, columns = panel_grid(len(layers))
    figure = new_figure(_OP, 4.0 * columns, 3.0 * rows)
    for i, (title, weights) in enumerate(layers):
        axes = figure.add_subplot(rows, columns, i + 1)
        for name, values in weights:
            values = values[np.isfinite(values)]
            if values.size == 0:  # (nothing finite to count)
                continue
            # density: a bias of ten values stays visible beside thousands of weights
            axes.hist(values, bins=bins, histtype="stepfilled", alpha=0.5, density=True,
                      label=f"{name} ({values.size})")
        axes.set_title(title, fontsize=9)
        axes.set_ylabel("density")
        axes.legend(fontsize=7)
    return finish(figure, path)
