"""keras.ops.linalg: norms (NumPy's ``ord``/``axis`` rules). ember has no decompositions or
solvers yet; keras.ops raises NotImplementedError for inv, det, solve, svd, qr, ..."""
from __future__ import annotations

import ember
from .core import as_float, axes_argument


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (Keras' argument name)
    """Vector norms over one axis (or all, when ``axis`` and ``ord`` are None), matrix norms
    over two axes (or the two of a matrix when ``ord`` is given)."""
    x = as_float(x)
    dims = axes_argument(axis, x.dim(), "norm")
    if dims is None:
        if ord is None or x.dim() == 1:
            out = ember.linalg.vector_norm(x.reshape(-1), ord=2 if ord is None else ord, dim=0)
            return out.reshape((1,) * x.dim()) if keepdims else out
        if x.dim() != 2:
            raise ValueError(f"keras.ops.norm: ord={ord!r} without axis needs a 1-D or 2-D "
                             f"tensor. Received: x.shape={tuple(x.shape)}")
        dims = (0, 1)
    if len(dims) == 1:
        return ember.linalg.vector_norm(x, ord=2 if ord is None else ord, dim=dims[0],
                                        keepdim=keepdims)
    if len(dims) == 2:
        return ember.linalg.matrix_norm(x, ord="fro" if ord is None else ord, dim=dims,
                                        keepdim=keepdims)
    raise ValueError(f"keras.ops.norm: axis must name one or two axes. Received: axis={axis!r}")


__all__ = ["norm"]
