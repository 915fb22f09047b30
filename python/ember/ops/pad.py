"""Padding of the last dimensions: constant (negative pads crop), reflect, replicate, circular."""
import numpy as np

from ..autograd import Function

_NUMPY_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


class ConstantPad(Function):
    """pads: ((before, after), ...) for the trailing dimensions; negative values crop."""

    def forward(self, x, pads, value=0.0):
        lead = x.ndim - len(pads)
        out_shape = x.shape[:lead] + tuple(n + b + a for n, (b, a) in zip(x.shape[lead:], pads))
        if any(s < 0 for s in out_shape):
            raise ValueError(f"pad: padding {pads} makes a negative size for input shape "
                             f"{tuple(x.shape)}")
        src = (slice(None),) * lead + tuple(slice(max(0, -b), n - max(0, -a))
                                            for n, (b, a) in zip(x.shape[lead:], pads))
        dst = (slice(None),) * lead + tuple(slice(max(0, b), max(0, b) + max(0, n - max(0, -b) - max(0, -a)))
                                            for n, (b, a) in zip(x.shape[lead:], pads))
        out = np.full(out_shape, value, dtype=x.dtype)
        out[dst] = x[src]
        self.shape, self.src, self.dst = x.shape, src, dst
        return out

    def backward(self, g):
        grad = np.zeros(self.shape, g.dtype)
        grad[self.src] = g[self.dst]
        return (grad,)


class IndexPad(Function):
    """reflect / replicate / circular padding as a gather with per-dimension index maps."""

    def forward(self, x, pads, mode):
        lead = x.ndim - len(pads)
        maps = [np.pad(np.arange(n), (b, a), mode=_NUMPY_MODES[mode])
                for n, (b, a) in zip(x.shape[lead:], pads)]
        self.index = (Ellipsis,) + tuple(np.ix_(*maps)) if maps else (Ellipsis,)
        self.shape = x.shape
        return x[self.index]

    def backward(self, g):
        grad = np.zeros(self.shape, g.dtype)
        np.add.at(grad, self.index, g)  # edge elements are read several times
        return (grad,)
