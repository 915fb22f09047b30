"""Bounded stand-ins for the globals a weights_only load allows, so that a small hostile pickle
cannot make them allocate or loop without bound.

ember's own files call these only with data the pickle holds itself (a bytearray from bytes, a
Size from a tuple). A crafted pickle could pass a lazy `range(2**62)` or an int instead:
`bytearray(10**12)`, `Size(range(2**62))`, or a Tensor built from lists that memo references
share a thousand times over. The stand-ins refuse those and build what the real globals build.
Tensors in ember files come only from the array section (by persistent id), so constructing one
from pickled arguments is refused outright."""
from __future__ import annotations

import pickle

from .nn.parameter import Parameter
from .tensor import Size, Tensor


class GuardRefused(pickle.UnpicklingError):
    """A call the guards refuse; its message names the global and why."""


def _refuse(name: str, args) -> None:
    raise GuardRefused(f"{name} called with {', '.join(type(a).__name__ for a in args)} "
                       "arguments, which ember files never contain (a crafted file could make "
                       "it allocate or loop without bound)")


def _only(name, real, kinds):
    """`real` for arguments of the given types, which the pickle itself holds (bounded by it)."""
    def guarded(*args):
        if not all(isinstance(a, kinds) for a in args):
            _refuse(name, args)
        return real(*args)
    guarded.__qualname__ = guarded.__name__ = name
    return guarded


class _LoadedSize(Size):
    """Size's stand-in: NEWOBJ calls its __new__, which returns a plain Size of a held tuple."""

    def __new__(cls, *args):
        if not all(isinstance(a, (tuple, list)) for a in args):
            _refuse("ember.tensor.Size", args)
        return Size(*args)


def _no_construction(real):
    class Reference(real):
        """A tensor class named in a tensor reference; calling it from a pickle is refused."""

        def __new__(cls, *args, **kwargs):
            raise GuardRefused(f"ember.load: the pickle constructs a {real.__name__} from "
                               "pickled arguments; ember files hold tensor data only in their "
                               "array section")
    Reference.__qualname__ = Reference.__name__ = f"{real.__name__}Reference"
    return Reference


TENSOR_REFERENCES = {_no_construction(Tensor): Tensor, _no_construction(Parameter): Parameter}

# Overrides for the default table: same names, bounded behaviour.
GUARDED = {
    "builtins.bytearray": _only("bytearray", bytearray, (bytes, bytearray, str)),
    "builtins.set": _only("set", set, (list, tuple, set, frozenset)),
    "builtins.frozenset": _only("frozenset", frozenset, (list, tuple, set, frozenset)),
    "ember.tensor.Size": _LoadedSize,
    **{f"ember.{'tensor' if real is Tensor else 'nn.parameter'}.{real.__name__}": ref
       for ref, real in TENSOR_REFERENCES.items()},
}
