"""ember.nn.functional: PyTorch's functional API (activations, linear, dropout, losses)."""
from __future__ import annotations

import warnings

import numpy as np

from .. import _core, functions as _fn
from .._bounds import check_alloc as _check_alloc
from ..ops import activation as A, linalg as L, loss as LS
from ..random import _resolve, kernel_seed
from ..tensor import Tensor
from ._functional_attention import scaled_dot_product_attention  # noqa: F401
from ._functional_conv import conv1d, conv2d, pad  # noqa: F401  (convolutional networks)
from ._functional_dropout import (alpha_dropout, dropout1d, dropout2d,  # noqa: F401
                                  dropout3d, feature_alpha_dropout)
from ._functional_dropout import check_dropout_p as _check_p
from ._functional_local_response_norm import local_response_norm  # noqa: F401
from ._functional_norm import batch_norm, layer_norm  # noqa: F401
from ._functional_sample_norm import group_norm, instance_norm  # noqa: F401
from ._functional_conv_transpose import conv_transpose1d, conv_transpose2d  # noqa: F401
from ._functional_interpolate import (interpolate, upsample, upsample_bilinear,  # noqa: F401
                                      upsample_nearest)
from ._functional_pixel_shuffle import pixel_shuffle, pixel_unshuffle  # noqa: F401
from ._functional_pool import (adaptive_avg_pool1d, adaptive_avg_pool2d,  # noqa: F401
                               adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, avg_pool2d,
                               max_pool1d, max_pool2d)

sigmoid = _fn.sigmoid
tanh = _fn.tanh


def _result(input, out, inplace, op):
    """Returns `out`, or with inplace=True writes it into `input` and returns input (PyTorch)."""
    if not inplace:
        return out
    from ..tensor_methods import assign_inplace
    return assign_inplace(input, out, op)


def relu(input, inplace=False):
    out = _fn.relu(input)
    return _result(input, out, inplace, "relu_") if inplace else out


def _tensor(x, name, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be an ember.Tensor, got {type(x).__name__}")
    return x


def linear(input, weight, bias=None):
    if isinstance(input, Tensor) and input._array.ndim == 2:  # (no node for inference)
        return L.linear_activation(input, weight, bias, "linear")
    return L.Linear.apply(input, weight, bias) if bias is not None else L.Linear.apply(input, weight)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    out = A.Activation.apply(input, kind="leaky_relu", alpha=float(negative_slope))
    return _result(input, out, inplace, "leaky_relu_")


def elu(input, alpha=1.0, inplace=False):
    return _result(input, A.Activation.apply(input, kind="elu", alpha=float(alpha)), inplace,
                   "elu_")


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return A.Activation.apply(input, kind="gelu" if approximate == "none" else "gelu_tanh")


def softplus(input, beta=1.0, threshold=20.0):
    if beta == 0:
        raise ValueError("softplus: beta must be nonzero")
    return A.Activation.apply(input, kind="softplus", alpha=float(beta), beta=float(threshold))


def silu(input, inplace=False):
    return _result(input, input * sigmoid(input), inplace, "silu_")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val cannot be greater than max_val, got min_val="
                         f"{min_val} and max_val={max_val}")
    return _result(input, _fn.clamp(input, min_val, max_val), inplace, "hardtanh_")


def relu6(input, inplace=False):
    return _result(input, _fn.clamp(input, 0.0, 6.0), inplace, "relu6_")


def _softmax_dim(ndim):
    return 0 if ndim in (0, 1, 3) else 1  # PyTorch's legacy choice when dim is omitted


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _fn.softmax(input, _softmax_dim(input.ndim) if dim is None else dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return _fn.log_softmax(input, _softmax_dim(input.ndim) if dim is None else dim, dtype)


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Zeroes elements with probability p and scales the rest by 1/(1-p) while training."""
    _check_p("dropout", p)
    if not training or p == 0:
        return input
    return _result(input, _dropout(input, p, generator), inplace, "dropout_")


def _dropout(input, p, generator):
    arr = input._array
    if arr.dtype in (np.float32, np.float64):
        return A.ElementDropout.apply(input, p=float(p), seed=kernel_seed(generator))
    if p == 1:
        mask = np.zeros(arr.shape, arr.dtype)
    else:
        keep = _resolve(generator).random(arr.shape, dtype=np.float32) >= p
        mask = keep.astype(arr.dtype) * arr.dtype.type(1.0 / (1.0 - p))
    return A.Dropout.apply(input, mask)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of weight (num_embeddings, dim) at the integer indices in input: (*input.shape, dim).
    The row at padding_idx receives no gradient."""
    from ..ops.rnn import Embedding
    for name, value, default in (("max_norm", max_norm, None),
                                 ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value != default:
            raise NotImplementedError(f"embedding: {name}={value!r} is not supported by ember")
    indices = input._array if isinstance(input, Tensor) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {indices.dtype} with "
                        f"shape {tuple(indices.shape)}")
    rows = weight.shape[0]
    if padding_idx is None:
        padding_idx = -1
    elif not -rows <= padding_idx < rows:
        raise ValueError(f"embedding: padding_idx must be within num_embeddings ({rows}), got "
                         f"{padding_idx}")
    elif padding_idx < 0:
        padding_idx += rows
    return Embedding.apply(weight, indices=indices, padding_idx=int(padding_idx))


def one_hot(tensor, num_classes=-1):
    idx = tensor._array
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got dtype {idx.dtype}")
    if num_classes < 0:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got values in "
                         f"[{idx.min()}, {idx.max()}]")
    _check_alloc("one_hot", idx.shape + (num_classes,), 8)
    # Set one entry per label: indexing np.eye(num_classes) built a num_classes**2 table first
    # (3 GB for 20,000 classes, whatever the number of labels).
    out = np.zeros(idx.shape + (num_classes,), dtype=np.int64)
    np.put_along_axis(out, idx[..., None].astype(np.intp), 1, axis=-1)
    return Tensor._from_op(out, None)


# ---- losses --------------------------------------------------------------------------------
def _legacy_reduction(size_average, reduce, stacklevel=3) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce flags to a reduction string,
    with its deprecation warning (losses and loss modules alike)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use "
                  f"reduction='{ret}' instead.", stacklevel=stacklevel)
    return ret


def _reduction(op, size_average, reduce, reduction):
    if size_average is not None or reduce is not None:  # PyTorch's deprecated arguments
        reduction = _legacy_reduction(size_average, reduce, stacklevel=4)
    return LS.reduction_code(op, reduction)


def _same_shape(op, input, target):
    if input._array.shape != target._array.shape:
        raise _core.ShapeError(f"{op}: target shape {tuple(target.shape)} differs from input "
                               f"shape {tuple(input.shape)}; reshape one of them (PyTorch would "
                               f"broadcast them, which is almost always a bug)")


def _broadcast_to_input(op, name, w, input):
    if w is None:
        return None
    arr = w._array if isinstance(w, Tensor) else np.asarray(w, input._array.dtype)
    try:
        return np.asarray(np.broadcast_to(arr, input.shape), order="C")
    except ValueError:
        raise _core.ShapeError(f"{op}: {name} of shape {tuple(arr.shape)} cannot be broadcast to "
                               f"input shape {tuple(input.shape)}") from None


def _pointwise(kind, input, target, reduction, param=0.0, weight=None, pos_weight=None):
    _tensor(input, "input", kind)
    target = target if isinstance(target, Tensor) else Tensor._from_op(
        np.asarray(target, input._array.dtype), None)
    _same_shape(kind, input, target)
    return LS.PointwiseLoss.apply(input, target, weight, pos_weight, kind=kind, param=param,
                                  reduction=reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    return _pointwise("mse_loss", input, target, _reduction("mse_loss", size_average, reduce,
                                                            reduction),
                      weight=_broadcast_to_input("mse_loss", "weight", weight, input))


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    return _pointwise("l1_loss", input, target,
                      _reduction("l1_loss", size_average, reduce, reduction))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _pointwise("huber_loss", input, target, LS.reduction_code("huber_loss", reduction),
                      float(delta), weight=_broadcast_to_input("huber_loss", "weight", weight, input))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return _pointwise("smooth_l1_loss", input, target,
                      _reduction("smooth_l1_loss", size_average, reduce, reduction), float(beta))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    arr = _tensor(input, "input", "binary_cross_entropy")._array
    if arr.size and ((arr < 0) | (arr > 1)).any():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 "
                         "(pass logits to binary_cross_entropy_with_logits instead)")
    return _pointwise("binary_cross_entropy", input, target,
                      _reduction("binary_cross_entropy", size_average, reduce, reduction),
                      weight=_broadcast_to_input("binary_cross_entropy", "weight", weight, input))


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    op = "binary_cross_entropy_with_logits"
    _tensor(input, "input", op)
    return _pointwise(op, input, target, _reduction(op, size_average, reduce, reduction),
                      weight=_broadcast_to_input(op, "weight", weight, input),
                      pos_weight=_broadcast_to_input(op, "pos_weight", pos_weight, input))


def _class_weight(weight, input):
    if weight is None:
        return None
    arr = weight._array if isinstance(weight, Tensor) else np.asarray(weight)
    return arr.astype(input._array.dtype, copy=False)


def _classes_last(op, input, target):
    """(N, C, d1, ...) input and (N, d1, ...) target as (N*d, C) and (N*d,); also handles an
    unbatched (C,) input with a () target. Returns (input2d, target, output shape for 'none')."""
    nd = input._array.ndim
    if nd == 1:
        return input.unsqueeze(0), target.reshape(1), ()
    if nd == 2:
        return input, target, None  # the loss already has its 'none' shape
    n, c = input.shape[0], input.shape[1]
    spatial = tuple(input.shape[2:])
    moved = input.permute(0, *range(2, nd), 1).reshape(-1, c)
    return moved, target.reshape(-1), (n,) + spatial


def _check_class_target(op, input, target):
    t = target._array
    shape = input._array.shape
    expected = shape[:1] + shape[2:] if len(shape) != 1 else ()
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers, got dtype {t.dtype} "
                        f"(input {tuple(input.shape)}, target {tuple(t.shape)})")
    if tuple(t.shape) != expected:
        raise _core.ShapeError(f"{op}: expected target of shape {expected} for input of shape "
                               f"{tuple(input.shape)}, got {tuple(t.shape)}")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    op = "cross_entropy"
    _tensor(input, "input", op)
    target = target if isinstance(target, Tensor) else Tensor._from_op(np.asarray(target), None)
    code = _reduction(op, size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    w = _class_weight(weight, input)
    if target._array.dtype.kind == "f":  # class probabilities, same shape as input
        index_shape = tuple(input.shape[:1]) + tuple(input.shape[2:]) if input.ndim != 1 else ()
        if tuple(target.shape) == index_shape and tuple(target.shape) != tuple(input.shape):
            raise TypeError(f"{op}: target has dtype {target.dtype.name} and shape "
                            f"{tuple(target.shape)}: class-index targets must be integers "
                            f"(use target.long()); probability targets must have the input's "
                            f"shape {tuple(input.shape)}")
        _same_shape(op, input, target)
        x2, t2, out_shape = _classes_last(op, input, target)
        if input.ndim > 2:
            t2 = target.permute(0, *range(2, input.ndim), 1).reshape(-1, input.shape[1])
        elif input.ndim == 1:
            t2 = target.unsqueeze(0)
        loss = LS.CrossEntropyProbs.apply(x2, t2, w, label_smoothing=float(label_smoothing),
                                          reduction=code)
    else:
        _check_class_target(op, input, target)
        x2, t2, out_shape = _classes_last(op, input, target)
        loss = LS.CrossEntropy.apply(x2, t2, w, ignore_index=int(ignore_index),
                                     label_smoothing=float(label_smoothing), reduction=code)
    return loss.reshape(out_shape) if code == 0 and out_shape is not None else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    op = "nll_loss"
    _tensor(input, "input", op)
    target = target if isinstance(target, Tensor) else Tensor._from_op(np.asarray(target), None)
    code = _reduction(op, size_average, reduce, reduction)
    _check_class_target(op, input, target)
    x2, t2, out_shape = _classes_last(op, input, target)
    loss = LS.NLLLoss.apply(x2, t2, _class_weight(weight, input), ignore_index=int(ignore_index),
                            reduction=code)
    return loss.reshape(out_shape) if code == 0 and out_shape is not None else loss


# Last: public functions raise PyTorch's errors, never an internal one (issue 11).
from .._public_errors import wrap_public_functions as _wrap_public_functions  # noqa: E402
_wrap_public_functions(globals(), __name__)
