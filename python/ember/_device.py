"""ember.device: PyTorch's device object, so `torch.device("cuda" if ... else "cpu")` runs.

Any device PyTorch knows may be named (PyTorch lets scripts build `device("cuda")` on machines
without a GPU); only the CPU can hold ember tensors, so moving anything elsewhere raises
`NotImplementedError` (a RuntimeError, as PyTorch raises when CUDA is absent) naming the device.
"""
from __future__ import annotations

import builtins

# The device types PyTorch's parser accepts (c10/core/DeviceType.cpp), in its order.
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
          "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
          "privateuseone")


class device:
    """device(type_str), device("cuda:1"), device(type, index) or device(type=..., index=...)."""

    __slots__ = ("_type", "_index")

    def __init__(self, type=None, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): a device object cannot be combined with an index")
            self._type, self._index = type._type, type._index
            return
        if _is_index(type) and index is None:  # device(1): an index on the accelerator (CUDA)
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device() expected a string, a device or an int, got "
                            f"{builtins.type(type).__name__}")
        kind, sep, text = type.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of "
                               f"device string: {type}")
        if sep:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            if not text.isdigit() or (len(text) > 1 and text[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = builtins.int(text)
        if index is not None:
            if not _is_index(index):
                raise TypeError(f"device(): index must be an int, got "
                                f"{builtins.type(index).__name__}")
            if index < 0:
                raise RuntimeError(f"Device index must not be negative, got {index}")
            index = builtins.int(index)
        self._type, self._index = kind, index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self):
        return self._index

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other):
        # Like PyTorch: a device equals only a device (device("cpu") == "cpu" is False).
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))


def _is_index(value) -> bool:
    return isinstance(value, builtins.int) and not isinstance(value, builtins.bool)


CPU = device("cpu")


def as_device(value) -> device:
    """`value` (a device, "cpu", "cuda:0", 0) as a device object."""
    return value if isinstance(value, device) else device(value)


def check_cpu(op: str, value) -> None:
    """Raises unless `value` (device, string, int or None) is the CPU; the message names it."""
    if value is None or value is CPU or value == "cpu":
        return
    where = as_device(value)
    if where.type != "cpu":
        raise unavailable(op, where)


def unavailable(op: str, where) -> NotImplementedError:
    """The error for `op` asked to use device `where` (e.g. "cuda"), which ember lacks."""
    where = as_device(where)
    why = {"cuda": "CUDA is not available in ember (ember.cuda.is_available() is False)",
           "mps": "MPS is not available in ember (ember.backends.mps.is_available() is False)"}
    reason = why.get(where.type, f"ember has no {where.type} backend")
    return NotImplementedError(f"{op}: ember runs on the CPU only; cannot use device "
                               f"'{where}': {reason}")
