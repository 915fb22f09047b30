"""ember.Tensor: a NumPy array with autograd, and the PyTorch tensor API on top of it."""
from __future__ import annotations

import numpy as np

from . import autograd, post_accumulate_hooks
from ._device import CPU, unavailable
from ._assign_checks import check_assigned_data, check_assigned_grad
from ._errors import wrap_dim
from ._to_args import parse_to
from .dtypes import dtype as _dtype_cls, from_numpy_dtype, to_numpy_dtype

_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)


class Size(tuple):
    """Shape tuple that prints like torch.Size."""

    def __repr__(self):
        return f"ember.Size({list(self)})"

    def numel(self):
        return int(np.prod(self, dtype=np.int64))


def _as_array(data, dtype=None) -> np.ndarray:
    """NumPy array for tensor(): Python floats become float32 and ints int64, like PyTorch."""
    if isinstance(data, Tensor):
        arr = data._array
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flatten(data)):
            data = _tensors_to_lists(data)
        arr = np.asarray(data)
        # Python floats become float32; NumPy float64 scalars keep their dtype, as in PyTorch.
        if dtype is None and arr.dtype == _FLOAT64 and not isinstance(data, np.generic):
            arr = arr.astype(np.float32)
    if dtype is not None:
        arr = arr.astype(to_numpy_dtype(dtype), copy=False)
    elif arr.dtype.kind == "U" or arr.dtype == object:
        raise TypeError(f"ember.tensor: cannot make a tensor from {type(data).__name__} data "
                        f"of NumPy dtype {arr.dtype}")
    return arr


def _flatten(seq):
    for x in seq:
        if isinstance(x, (list, tuple)):
            yield from _flatten(x)
        else:
            yield x


def _tensors_to_lists(seq):
    return [_tensors_to_lists(x) if isinstance(x, (list, tuple))
            else (x._array.tolist() if isinstance(x, Tensor) else x) for x in seq]


def _check_not_leaf_requiring_grad(t, op):
    if t.requires_grad and t.grad_fn is None and autograd._state.enabled:
        raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place "
                           f"operation ({op}). Wrap it in ember.no_grad() to modify it.")


def _float_formatter(arr):
    """Formats floats as torch prints them: "1." when all are whole numbers, else 4 decimals,
    scientific when the magnitudes span more than 1000x (or leave [1e-4, 1e8]); right-aligned."""
    vals = arr[np.isfinite(arr) & (arr != 0)].astype(np.float64)
    if vals.size == 0:
        return lambda v: f"{v:.0f}" + ("." if np.isfinite(v) else "")
    mags = np.abs(vals)
    lo, hi = float(mags.min()), float(mags.max())
    if hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
        def fmt(v): return f"{v:.4e}"
    elif np.all(vals == np.ceil(vals)):
        def fmt(v): return f"{v:.0f}" + ("." if np.isfinite(v) else "")
    else:
        def fmt(v): return f"{v:.4f}"
    # The widest string comes from an extreme value (sign, integer digits, exponent digits).
    width = max(len(fmt(float(v))) for v in (vals.min(), vals.max(), lo, -lo if vals.min() < 0 else lo))
    return lambda v: fmt(float(v)).rjust(width)


class Tensor:
    __slots__ = ("_array", "requires_grad", "_grad", "grad_fn", "_retains_grad", "_view_of",
                 "__weakref__")  # _view_of: (base, base's array, index) for t = base[index]
    # Make NumPy defer to Tensor's reflected operators (np_array + tensor -> Tensor).
    __array_ufunc__ = None

    def __init__(self, data=None, requires_grad: bool = False):
        # ember.Tensor(data) behaves like ember.tensor(data); ember.Tensor(2, 3) is not supported.
        arr = np.zeros((0,), np.float32) if data is None else _as_array(data)
        self._array = arr
        self._grad = None
        self.grad_fn = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _from_op(array, grad_fn):
        t = object.__new__(Tensor)
        t._array = array
        t._grad = None
        t.grad_fn = grad_fn
        t._retains_grad = False
        t.requires_grad = grad_fn is not None
        return t

    # ---- metadata ----------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._array.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._array.shape)
        return self._array.shape[wrap_dim(dim, self._array.ndim)]

    def dim(self) -> int:
        return self._array.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def numel(self) -> int:
        return int(self._array.size)

    nelement = numel

    @property
    def dtype(self) -> _dtype_cls:
        return from_numpy_dtype(self._array.dtype)

    @property
    def device(self):
        return CPU

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    def is_floating_point(self) -> bool:
        return self._array.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._array.flags.c_contiguous)

    def element_size(self) -> int:
        return self._array.itemsize

    def __len__(self):
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    # ---- conversion --------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._array

    def __array__(self, dtype=None, copy=None):
        arr = self._array
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def item(self):
        if self._array.size != 1:
            raise RuntimeError(f"a Tensor with {self._array.size} elements cannot be converted "
                               "to Scalar")
        return self._array.reshape(()).item()

    def tolist(self):
        return self._array.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._array.dtype.kind not in "iub" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self._array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._array.size} elements is "
                               "ambiguous")
        return bool(self._array.reshape(()).item())

    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(device, dtype), to(other_tensor); non_blocking, copy."""
        target, copy = parse_to("Tensor.to", args, kwargs)
        if target is not None and to_numpy_dtype(target) != self._array.dtype:
            from .ops.elementwise import Cast
            return Cast.apply(self, dtype=to_numpy_dtype(target))
        return self.clone() if copy else self

    def float(self):
        return self.to(_FLOAT32)

    def double(self):
        return self.to(_FLOAT64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def cpu(self):
        return self

    def cuda(self, device=None, non_blocking=False):
        raise unavailable("Tensor.cuda", "cuda")

    is_cuda = False
    is_cpu = True
    # Dense CPU tensors only: every other device and layout flag of PyTorch is False.
    is_xpu = is_mps = is_meta = is_xla = is_ipu = is_mtia = is_maia = is_vulkan = False
    is_mkldnn = is_sparse = is_sparse_csr = is_quantized = is_nested = False

    def get_device(self) -> int:
        return -1  # PyTorch's answer for a CPU tensor

    def contiguous(self):
        return self

    def clone(self):
        from .ops.elementwise import Clone
        return Clone.apply(self)

    # ---- autograd ----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad: bool = True):
        if requires_grad and self._array.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients "
                               f"(got {self.dtype})")
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables.")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        if self.grad_fn is not None:
            self._retains_grad = True

    def register_post_accumulate_grad_hook(self, hook):
        """Runs ``hook(self)`` after each backward has accumulated this leaf's gradient."""
        return post_accumulate_hooks.register(self, hook)

    def detach(self):
        return Tensor._from_op(self._array, None)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    @property
    def data(self):
        return Tensor._from_op(self._array, None)

    @data.setter
    def data(self, value):
        check_assigned_data(value, Tensor)
        self._array = value._array

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:  # checked here, not when an optimizer trips on it later
            check_assigned_grad(self, value, Tensor)
        self._grad = value

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if create_graph:
            raise NotImplementedError("backward(create_graph=True): higher-order gradients are "
                                      "not supported by ember")
        if inputs is not None:
            raise NotImplementedError("backward(inputs=...) is not supported; use ember.autograd.grad")
        if not self.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn")
        if gradient is None:
            if self._array.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs "
                                   f"(this tensor has shape {tuple(self._array.shape)})")
            grad = np.empty(self._array.shape, self._array.dtype)  # np.ones_like: 4x slower
            grad.fill(1)
        else:
            grad = np.asarray(gradient._array if isinstance(gradient, Tensor) else gradient,
                              dtype=self._array.dtype)
            if grad.shape != self._array.shape:
                raise RuntimeError(f"backward: gradient has shape {grad.shape} but the tensor has "
                                   f"shape {self._array.shape}")
        autograd.run_backward(self, grad, retain_graph=bool(retain_graph))

    # ---- printing ----------------------------------------------------------------------------
    def __repr__(self):
        arr = self._array
        formatter = {"float_kind": _float_formatter(arr)} if arr.dtype.kind == "f" else None
        body = np.array2string(arr, separator=", ", prefix="tensor(", formatter=formatter)
        extras = []
        if arr.size == 0 and arr.shape != (0,):
            extras.append(f"size={tuple(arr.shape)}")
        if arr.dtype not in (_FLOAT32, np.dtype(np.int64), np.dtype(np.bool_)):
            extras.append(f"dtype={self.dtype!r}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    def __format__(self, spec):
        # As PyTorch: a 0-d tensor formats as its number (f"{loss:.4f}"); others take no spec.
        if self._array.ndim == 0:
            return format(self._array.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string {spec!r} passed to Tensor.__format__: "
                            f"only 0-d tensors format as numbers; this one has shape "
                            f"{tuple(self._array.shape)} (use .item() on a one-element tensor)")
        return repr(self)

    # Identity hashing at C speed: __eq__ is elementwise, so Python would drop the default.
    __hash__ = object.__hash__

    def __iter__(self):
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._array.shape[0]))

    def __reduce__(self):
        from .shared_memory import picklable_array  # a shared tensor goes by its segment
        return (_rebuild, (picklable_array(self._array), self.requires_grad))

    def __deepcopy__(self, memo):
        t = Tensor._from_op(self._array.copy(), None)
        t.requires_grad = self.requires_grad
        return t


def array_or_none(t):
    """t's array, or None for an absent optional tensor (a layer without bias)."""
    return None if t is None else t._array


def _rebuild(array, requires_grad):
    t = Tensor._from_op(array, None)
    t.requires_grad = requires_grad
    return t


autograd._Tensor = Tensor
