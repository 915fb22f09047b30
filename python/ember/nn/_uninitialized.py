"""UninitializedParameter and UninitializedBuffer: a lazy module's tensors before their shape is
known (PyTorch's). They hold only a dtype; reading their data is a clear error until
``materialize(shape)`` gives them data and turns them, in place, into a Parameter or a Tensor:
an optimizer built before the first forward holds the same objects and trains them."""
from __future__ import annotations

import numpy as np

from .._device import check_cpu as _check_device
from ..dtypes import from_numpy_dtype, to_numpy_dtype
from ..tensor import Tensor
from .parameter import Parameter

_ARRAY = Tensor._array  # the slot's descriptor: where the data goes, past the property below

_UNINITIALIZED = ("Can't access the shape of an uninitialized parameter or buffer. This error "
                  "usually happens in `load_state_dict` when trying to load an uninitialized "
                  "parameter into an initialized one. Call `forward` to initialize the "
                  "parameters before accessing their attributes.")


class UninitializedTensorMixin:
    """Until materialize(), the array slot holds the future dtype (np.dtype, not an array)."""

    __slots__ = ()
    cls_to_become = None

    def _start(self, dtype, requires_grad):
        _ARRAY.__set__(self, to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.float32))
        self.grad = None
        self.grad_fn = None
        self._retains_grad = False
        self.requires_grad = requires_grad

    @property
    def _array(self):
        raise ValueError(_UNINITIALIZED)

    @property
    def dtype(self):
        return from_numpy_dtype(_ARRAY.__get__(self))

    def _set_dtype(self, np_dtype) -> None:
        """Module.to(dtype) before the first forward: the dtype materialize will use."""
        _ARRAY.__set__(self, np.dtype(np_dtype))

    def materialize(self, shape, device=None, dtype=None) -> None:
        """Gives the tensor uninitialized data of `shape` (dtype: the one it was made with, or
        `dtype`) and makes it a plain Parameter (or Tensor), keeping its identity."""
        _check_device(type(self).__name__, device)
        np_dtype = to_numpy_dtype(dtype) if dtype is not None else _ARRAY.__get__(self)
        shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
        _ARRAY.__set__(self, np.empty(shape, dtype=np_dtype))
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise ValueError(_UNINITIALIZED)

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(requires_grad=self.requires_grad, dtype=self.dtype)
        return memo[id(self)]

    def __reduce__(self):
        return (type(self), (self.requires_grad, None, self.dtype))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape a lazy module learns from its first input."""

    cls_to_become = Parameter

    def __init__(self, requires_grad=True, device=None, dtype=None):
        _check_device(type(self).__name__, device)
        self._start(dtype, requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer (running statistics) whose shape a lazy module learns from its first input."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad=False, device=None, dtype=None):
        _check_device(type(self).__name__, device)
        self._start(dtype, requires_grad)


def is_lazy(tensor) -> bool:
    """Whether `tensor` is an uninitialized parameter or buffer."""
    return isinstance(tensor, UninitializedTensorMixin)
