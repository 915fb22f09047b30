"""In-place tensor methods (add_, x += y, ...): how a result computed out of place becomes the
new value of the tensor it was computed from, with PyTorch's rules."""
import numpy as np

from . import autograd
from ._errors import ShapeError
from .ops.setitem import SetItem
from .tensor import _check_not_leaf_requiring_grad


def _check_result(self, out, name):
    """PyTorch writes an in-place result into self's storage: it must keep self's shape, and
    its dtype must be castable (no float result into an integer tensor)."""
    if out.shape != self._array.shape:  # ShapeError: a RuntimeError, as PyTorch's
        raise ShapeError(f"{name}: output with shape {tuple(self._array.shape)} doesn't match "
                           f"the broadcast shape {tuple(out.shape)}")
    if not np.can_cast(out.dtype, self._array.dtype, "same_kind"):
        raise RuntimeError(f"{name}: result type {out.dtype} can't be cast to the desired "
                           f"output type {self._array.dtype}")


def _write_through_view(self, out, name):
    """When self is base[index] (a view), base takes the new values too, as a graph node
    (base[index] = out), so gradients flow as PyTorch's do. A view of a leaf that requires
    grad refuses, as in PyTorch."""
    view = getattr(self, "_view_of", None)
    if view is None or view[0]._array is not view[1]:  # not a view, or base has moved on
        return
    base, _, index = view
    if base.requires_grad and base.grad_fn is None:
        raise RuntimeError(f"a view of a leaf Variable that requires grad is being used in an "
                           f"in-place operation ({name}).")
    new_base = SetItem.apply(base, out, index=index)
    base._array, base.grad_fn, base.requires_grad = (new_base._array, new_base.grad_fn,
                                                     new_base.requires_grad)
    self._view_of = (base, base._array, index)


def assign_inplace(self, out, name):
    """Makes `self` hold `out`, the result of an op on self, as an in-place op would.

    Without a graph the values are written into self's array (views of it see them). Inside a
    graph self becomes the op's output (cast to self's dtype), and if self is base[index] then
    base[index] is assigned too; the arrays saved for backward stay intact because they are
    never overwritten.
    """
    _check_not_leaf_requiring_grad(self, name)
    _check_result(self, out._array, name)
    if autograd.is_grad_enabled() and (out.requires_grad or self.requires_grad):
        if out._array.dtype != self._array.dtype:
            out = out.to(self._array.dtype)
        _write_through_view(self, out, name)
        self._array, self.grad_fn, self.requires_grad = out._array, out.grad_fn, out.requires_grad
    else:
        np.copyto(self._array, out._array, casting="same_kind")
    return self


def inplace_method(name, compute):
    """The method `name` that computes `compute(self, ...)` and assigns it to self."""
    def method(self, *args, **kwargs):
        return assign_inplace(self, compute(self, *args, **kwargs), name)

    method.__name__ = name
    return method
