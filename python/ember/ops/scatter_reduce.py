"""scatter_reduce: each position that index selects along dim becomes the sum, product, mean,
max or min of the src values sent to it (and of its own value when include_self)."""
import numpy as np

from ..autograd import Function
from .index import along_dim_coords, leading_region

_UFUNCS = {"sum": np.add, "mean": np.add, "prod": np.multiply, "amax": np.maximum,
           "amin": np.minimum}


def _identity(reduce, dtype):
    """The start value of a reduction that leaves a position's own value out."""
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    info = np.finfo(dtype) if dtype.kind == "f" else np.iinfo(dtype)
    big = np.inf if dtype.kind == "f" else info.max
    return -big if reduce == "amax" else big


class ScatterReduce(Function):
    def forward(self, a, index, src, dim, reduce, include_self):
        self.shape, self.src_shape, self.reduce = a.shape, src.shape, reduce
        a1, idx = np.atleast_1d(a), np.atleast_1d(index)
        self.coords = coords = along_dim_coords(idx, dim)
        self.vals = vals = np.atleast_1d(src)[leading_region(idx.shape)]
        hit = np.zeros(a1.shape, bool)
        hit[coords] = True
        # positions whose own value takes part: all of them with include_self, else the unhit
        self.own = np.ones(a1.shape, bool) if include_self else ~hit
        out = np.where(self.own, a1, np.asarray(_identity(reduce, a.dtype), a.dtype))
        _UFUNCS[reduce].at(out, coords, vals)
        if reduce == "mean":
            self.count = self.own.astype(a.dtype)
            np.add.at(self.count, coords, 1)
            divide = np.floor_divide if a.dtype.kind in "iu" else np.true_divide
            out = divide(out, np.maximum(self.count, 1)).astype(a.dtype, copy=False)
        self.a1, self.out = a1, out
        return out.reshape(a.shape)

    def backward(self, g):
        g1, coords, own, vals = np.atleast_1d(g), self.coords, self.own, self.vals
        if self.reduce == "sum":
            per_target = g1
            ga, gv = np.where(own, g1, 0), g1[coords]
        elif self.reduce == "mean":
            per_target = g1 / self.count
            ga, gv = np.where(own, per_target, 0), per_target[coords]
        elif self.reduce == "prod":
            ga, gv = self._prod_grads(g1)
        else:  # amax / amin: shared evenly by the values equal to the result
            own_eq = own & (self.a1 == self.out)
            src_eq = vals == self.out[coords]
            count = own_eq.astype(g1.dtype)
            np.add.at(count, coords, src_eq)
            per_target = g1 / count
            ga, gv = np.where(own_eq, per_target, 0), np.where(src_eq, per_target[coords], 0)
        gs = np.zeros(self.src_shape or (1,), g.dtype)
        gs[leading_region(gv.shape)] = gv
        return (ga.astype(g.dtype, copy=False).reshape(self.shape), None,
                gs.reshape(self.src_shape))

    def _prod_grads(self, g1):
        """Each factor's gradient is the product of the other factors of its position, from
        the product of the nonzero factors and the number of zeros (exact at zeros)."""
        a1, coords, own, vals = self.a1, self.coords, self.own, self.vals
        zeros = (own & (a1 == 0)).astype(np.int64)
        np.add.at(zeros, coords, vals == 0)
        nonzero_prod = np.where(own & (a1 != 0), a1, 1).astype(g1.dtype)
        np.multiply.at(nonzero_prod, coords, np.where(vals == 0, 1, vals))

        def others(x, z, p):
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(x == 0, np.where(z == 1, p, 0), np.where(z == 0, p / x, 0))

        ga = np.where(own, others(a1, zeros, nonzero_prod) * g1, 0)
        gv = others(vals, zeros[coords], nonzero_prod[coords]) * g1[coords]
        return ga, gv
