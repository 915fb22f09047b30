"""Attaches the operators and methods of the PyTorch tensor API to ember.Tensor."""
import numpy as np

from . import autograd, counting, cumulative, functions as F, index_updates, indexing, linalg, \
    logical_reductions, nan_reductions, shared_memory, sorting
from ._errors import broadcast_error
from ._numpy_names import numpy_names
from ._public_errors import tensor_argument
from .ops import elementwise as E
from .ops.setitem import SetItem
from .ops.shape import GetItem
from .inplace import assign_inplace, inplace_method as _inplace  # noqa: F401 (nn uses it)
from .tensor import Tensor, _check_not_leaf_requiring_grad


def _index(index):
    """Tensor indices become arrays; bool tensors become masks."""
    if isinstance(index, Tensor):
        return index._array
    if isinstance(index, tuple):
        return tuple(i._array if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _getitem(self, index):
    index = _index(index)
    out = GetItem.apply(self, index=index)
    owner = out._array.base
    if owner is not None and (owner is self._array or owner is self._array.base):
        out._view_of = (self, self._array, index)  # in-place ops on out also change self
    return out


def _setitem(self, index, value):
    index = _index(index)
    in_graph = autograd.is_grad_enabled() and (
        self.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
    if not in_graph:
        try:
            self._array[index] = value._array if isinstance(value, Tensor) else value
        except ValueError as e:
            raise broadcast_error("index assignment", e) from None
        return
    _check_not_leaf_requiring_grad(self, "index assignment")
    out = SetItem.apply(self, value if isinstance(value, Tensor) else np.asarray(value,
                                                                                 self._array.dtype),
                        index=index)
    self._array, self.grad_fn, self.requires_grad = out._array, out.grad_fn, True


def _reflected(fn):
    return lambda self, other: fn(F._operand(other), self)


def _view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list)):
        return self.to(shape[0])  # view(dtype)
    return F._reshape(self, F._size_args(shape), "view")


def _expand(self, *sizes):
    return F.S.Expand.apply(self, shape=F._size_args(sizes))


@numpy_names
def _max(self, dim=None, keepdim=False):
    return F.max(self, dim, keepdim)


@numpy_names
def _min(self, dim=None, keepdim=False):
    return F.min(self, dim, keepdim)


def _in_graph(self, value):
    return autograd.is_grad_enabled() and (
        self.requires_grad or (isinstance(value, Tensor) and value.requires_grad))


def _overwrite_in_graph(self, value, name):
    """fill_/copy_ recorded in a graph: the old values get zero gradient, `value` the rest."""
    out = F.where(np.zeros(self._array.shape, bool), self, value)
    if out._array.dtype != self._array.dtype:
        out = out.to(self._array.dtype)
    return assign_inplace(self, out, name)


def _fill(self, value):
    if _in_graph(self, value):
        return _overwrite_in_graph(self, value, "fill_")
    self._array[...] = value._array if isinstance(value, Tensor) else value
    return self


def _copy(self, src, non_blocking=False):
    if _in_graph(self, src):
        return _overwrite_in_graph(self, src, "copy_")
    src_arr = src._array if isinstance(src, Tensor) else np.asarray(src)
    try:
        np.copyto(self._array, np.broadcast_to(src_arr, self._array.shape), casting="unsafe")
    except ValueError as e:
        raise broadcast_error("copy_", e, (src_arr, self._array)) from None
    return self


_METHODS = {
    "__add__": F.add, "__radd__": _reflected(F.add), "__sub__": F.sub,
    "__rsub__": _reflected(F.sub), "__mul__": F.mul, "__rmul__": _reflected(F.mul),
    "__truediv__": F.div, "__rtruediv__": _reflected(F.div), "__pow__": F.pow,
    "__rpow__": _reflected(F.pow), "__matmul__": F.matmul, "__rmatmul__": _reflected(F.matmul),
    "__neg__": F.neg, "__abs__": F.abs, "__pos__": lambda self: self,
    "__eq__": F.eq, "__ne__": F.ne, "__lt__": F.lt, "__le__": F.le, "__gt__": F.gt, "__ge__": F.ge,
    "__getitem__": _getitem, "__setitem__": _setitem,
    "add": F.add, "sub": F.sub, "mul": F.mul, "div": F.div, "pow": F.pow, "neg": F.neg,
    "exp": F.exp, "log": F.log, "sqrt": F.sqrt, "abs": F.abs, "sin": F.sin, "cos": F.cos,
    "square": F.square, "clamp": F.clamp, "clip": F.clamp, "maximum": F.maximum,
    "minimum": F.minimum, "sign": F.sign, "floor": F.floor, "round": F.round,
    "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh, "softmax": F.softmax,
    "log_softmax": F.log_softmax, "eq": F.eq, "ne": F.ne, "lt": F.lt, "le": F.le, "gt": F.gt,
    "ge": F.ge, "isnan": F.isnan, "isinf": F.isinf, "isfinite": F.isfinite, "equal": F.equal,
    "allclose": F.allclose, "logical_not": F.logical_not,
    "sum": F.sum, "mean": F.mean, "max": _max, "min": _min, "amax": F.amax, "amin": F.amin,
    "argmax": F.argmax, "argmin": F.argmin, "std": F.std, "var": F.var, "prod": F.prod,
    "logsumexp": F.logsumexp,
    "reshape": F.reshape, "view": _view, "flatten": F.flatten, "unflatten": F.unflatten,
    "squeeze": F.squeeze, "unsqueeze": F.unsqueeze, "permute": F.permute,
    "transpose": F.transpose, "swapaxes": F.transpose, "t": F.t, "expand": _expand,
    "split": F.split, "chunk": F.chunk, "matmul": F.matmul, "mm": F.mm, "bmm": F.bmm,
    "view_as": lambda self, other: _view(self, *tensor_argument("view_as", "other", other).shape),
    "reshape_as": lambda self, other: F.reshape(
        self, *tensor_argument("reshape_as", "other", other).shape),
    "expand_as": lambda self, other: _expand(
        self, *tensor_argument("expand_as", "other", other).shape),
    "type_as": lambda self, other: self.to(tensor_argument("type_as", "other", other).dtype),
    "fill_": _fill, "zero_": lambda self: _fill(self, 0), "copy_": _copy,
    "add_": _inplace("add_", F.add), "sub_": _inplace("sub_", F.sub),
    "mul_": _inplace("mul_", F.mul), "div_": _inplace("div_", F.div),
    "pow_": _inplace("pow_", F.pow), "clamp_": _inplace("clamp_", F.clamp),
    "exp_": _inplace("exp_", F.exp), "neg_": _inplace("neg_", F.neg),
    "relu_": _inplace("relu_", F.relu), "sigmoid_": _inplace("sigmoid_", F.sigmoid),
    "tanh_": _inplace("tanh_", F.tanh),
    "__iadd__": _inplace("__iadd__", F.add), "__isub__": _inplace("__isub__", F.sub),
    "__imul__": _inplace("__imul__", F.mul), "__itruediv__": _inplace("__itruediv__", F.div),
}

# Reductions, sorting, indexing and scans (their own modules list their methods).
for _module in (logical_reductions, nan_reductions, sorting, indexing, index_updates, cumulative,
                counting):
    _METHODS.update(_module.TENSOR_METHODS)
    _METHODS.update({n + "_": _inplace(n + "_", f) for n, f in getattr(_module, "IN_PLACE",
                                                                       {}).items()})
_METHODS.update({"norm": linalg.tensor_norm, "where": lambda self, condition, other: F.where(
    condition, self, other)})

_METHODS.update({"share_memory_": shared_memory.share_memory_,
                 "is_shared": shared_memory.is_shared})
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)
Tensor.T = property(lambda self: F.permute(self, *reversed(range(self.ndim))))
Tensor.mT = property(lambda self: F.transpose(self, -2, -1))

from . import tensor_methods_more  # noqa: E402,F401  (attaches %, //, log1p, repeat, ...)
