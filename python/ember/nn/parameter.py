"""nn.Parameter: a leaf Tensor that a Module registers as one of its trainable weights."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that ``Module.__setattr__`` registers as a parameter.

    Like PyTorch, ``Parameter(t)`` shares ``t``'s data (no copy) and is always a leaf.
    """

    def __init__(self, data=None, requires_grad: bool = True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        # copy.deepcopy(model) must keep Parameters as Parameters (Tensor's own deepcopy would not).
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self._array.copy(), self.requires_grad)
        memo[id(self)] = result
        return result

    def __reduce__(self):
        from ..shared_memory import picklable_array  # a shared Parameter goes by its segment
        return (_rebuild_parameter, (type(self), picklable_array(self._array),
                                     self.requires_grad))


def _rebuild_parameter(cls, array, requires_grad):
    return cls(array, requires_grad)
