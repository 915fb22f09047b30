"""Out-of-place form of `t[index] = value`, used when the assignment is part of a graph."""
import numpy as np

from ..autograd import Function
from ._broadcast import unbroadcast


class SetItem(Function):
    def forward(self, a, value, index):
        self.index = index
        self.value_shape = value.shape if isinstance(value, np.ndarray) else ()
        out = a.copy()
        out[index] = value
        return out

    def backward(self, g):
        ga = gv = None
        if self.needs_input_grad[0]:
            ga = g.copy()
            ga[self.index] = 0
        if self.needs_input_grad[1]:
            gv = unbroadcast(np.broadcast_to(g[self.index], np.broadcast_shapes(
                g[self.index].shape, self.value_shape)), self.value_shape)
        return ga, gv
