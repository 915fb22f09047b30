"""The argument forms of Tensor.to and Module.to, parsed once for both.

PyTorch accepts to(dtype), to(device), to(device, dtype), to(other_tensor), positional
non_blocking/copy flags after them, and the same as keywords. Devices other than the CPU raise.
"""
from __future__ import annotations

from ._device import check_cpu, device


def parse_to(op: str, args, kwargs, allow_copy: bool = True):
    """(dtype or None, copy) for `op`(*args, **kwargs); raises for a non-CPU device."""
    kwargs = dict(kwargs)
    target = kwargs.pop("dtype", None)
    check_cpu(op, kwargs.pop("device", None))
    flags = [kwargs.pop("non_blocking", False)]
    if allow_copy:
        flags.append(kwargs.pop("copy", False))
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    positional_flags = []
    for a in args:
        if a is None:
            continue
        if isinstance(a, bool):
            positional_flags.append(a)
        elif isinstance(a, (str, device, int)):
            check_cpu(op, a)
        elif getattr(a, "dtype", None) is not None and hasattr(a, "_array"):  # to(other_tensor)
            check_cpu(op, a.device)
            target = a.dtype
        elif getattr(a, "is_legacy_tensor_type", False):  # to(ember.FloatTensor), as .type does
            target = a.dtype
        else:
            target = a
    if len(positional_flags) > len(flags):
        raise TypeError(f"{op}() takes at most {len(flags)} boolean flags "
                        f"({'non_blocking, copy' if allow_copy else 'non_blocking'}), "
                        f"got {len(positional_flags)}")
    flags[:len(positional_flags)] = positional_flags
    return target, bool(flags[-1]) if allow_copy else False
