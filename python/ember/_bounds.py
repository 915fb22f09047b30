"""Sizes checked before anything is allocated or looped over: element counts whose bytes
overflow int64 (PyTorch's "Storage size calculation overflowed") or exceed the memory this
process may use, and size-like arguments that do not fit the int64 the kernels compute with.
A clear error at once, instead of NumPy's MemoryError after an attempt, a wrapped size, or a
pybind11 signature dump for an int too large for C++."""
from __future__ import annotations

import contextlib
import functools
import math
import resource
import threading

INT64_MAX = 2**63 - 1


class OutOfMemoryError(RuntimeError, MemoryError):
    """A tensor larger than this process can hold (PyTorch raises a RuntimeError naming the
    bytes; it is also a MemoryError, what NumPy code catches)."""


@functools.lru_cache(maxsize=1)
def memory_limit() -> int:
    """Bytes this process may allocate at most: physical memory plus swap, or the address-space
    rlimit when that is lower."""
    total = 0
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith(("MemTotal:", "SwapTotal:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        total = 0
    if total <= 0:
        total = INT64_MAX
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY and 0 < soft < total:
        total = soft
    return total


def check_int64(op: str, name: str, values) -> None:
    """Each int in `values` (an int or a sequence) fits int64, the kernels' size type."""
    items = values if isinstance(values, (tuple, list)) else (values,)
    for v in items:
        if isinstance(v, (tuple, list)):
            check_int64(op, name, v)
        elif not -INT64_MAX - 1 <= v <= INT64_MAX:
            raise ValueError(f"{op}: {name} is out of range: each value must fit in int64 "
                             f"(at most {INT64_MAX}), got {name}={values!r}")


def check_alloc(op: str, shape, itemsize: int, what: str = "a tensor",
                show_shape: bool = True) -> None:
    """A tensor of `shape` with `itemsize`-byte elements may be allocated: its byte count fits
    int64 and the memory this process may use."""
    nbytes = itemsize * math.prod(int(d) for d in shape)
    if nbytes < 1 << 26:  # small: nothing to check (the common case, kept cheap)
        return
    if nbytes > INT64_MAX:
        raise OutOfMemoryError(f"{op}: storage size calculation overflowed with sizes="
                               f"{list(shape)}")
    if nbytes > memory_limit():
        described = f"{what} of shape {tuple(shape)}" if show_shape else what
        raise OutOfMemoryError(f"{op}: cannot allocate {described}: it needs {nbytes} bytes, "
                               f"more than the {memory_limit()} bytes this process may use")


def empty_parameter(op: str, shape, dtype):
    """np.empty(shape, dtype) for a module's parameter, refused first if it cannot fit (a
    constructor asked for 2**40 features gets ember's error naming it, not NumPy's)."""
    import numpy as np

    dtype = np.dtype(dtype)
    check_alloc(op, shape, dtype.itemsize, what="a parameter")
    spend_parameter(shape, dtype.itemsize)
    return np.empty(shape, dtype=dtype)


_budget = threading.local()  # a loader's allowance for new parameters, per thread


@contextlib.contextmanager
def parameter_budget(op: str, what: str, nbytes: int):
    """Within the block, parameters created on this thread may need `nbytes` in all: a loader
    building a model from a file's config stops one that asks for more than the file can fill
    (a 2 KB config could otherwise make gigabytes of layers before its weights are compared)."""
    outer = getattr(_budget, "state", None)
    _budget.state = [op, what, nbytes]
    try:
        yield
    finally:
        _budget.state = outer


def spend_parameter(shape, itemsize: int) -> None:
    """Counts a new parameter against the open parameter_budget, if any."""
    state = getattr(_budget, "state", None)
    if state is None:
        return
    state[2] -= itemsize * math.prod(int(d) for d in shape)
    if state[2] < 0:
        raise ValueError(f"{state[0]}: the model's config asks for more parameters than "
                         f"{state[1]} holds weights for (a parameter of shape {tuple(shape)} "
                         "goes past them); the file is corrupt or not this model's")


# Bytes a parameter costs beyond its data (the Parameter, its NumPy array, dict entries; about
# 500 measured): with num_layers=2**31 and tiny layers that, not the data, fills the memory.
PARAMETER_OVERHEAD = 512
# A sane bound on stacked layers, as PyTorch has none (its constructors loop for hours on
# 2**31): each layer costs about 0.3 ms to build, so 65,536 layers already take tens of seconds.
MAX_LAYERS = 2**16


def check_layer_count(op: str, num_layers: int, layer_bytes: int, layer_parameters: int) -> None:
    """`num_layers` copies of a layer holding `layer_parameters` parameters of `layer_bytes` in
    all may be built: refused before the first copy, not after hours of copying."""
    if num_layers > MAX_LAYERS:
        raise ValueError(f"{op}: num_layers={num_layers} is more than ember builds (at most "
                         f"{MAX_LAYERS} layers)")
    check_alloc(op, (num_layers * (layer_bytes + layer_parameters * PARAMETER_OVERHEAD),), 1,
                what=f"its parameters (num_layers={num_layers})", show_shape=False)
