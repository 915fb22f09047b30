"""einsum's arithmetic on ember's own matrix products.

numpy.einsum's optimizer hands its contractions to NumPy's BLAS, whose threads then spin
against ember's OpenMP threads (on 2 cores, a 2-thread training loop that called into NumPy's
BLAS once per step ran 18x slower). Here each pairwise contraction is one batched product of
ember's kernels instead: the operands are transposed to (batch, rows, inner) and (batch, inner,
columns), multiplied, and the result is laid out in the output's letter order. numpy.einsum_path
chooses the order of the pairs for three or more operands; small contractions, integer dtypes and
one-operand reductions stay in numpy.einsum's own loops (no BLAS).
"""
import math

import numpy as np

from .. import _core

_SMALL_WORK = 4096  # multiply-adds below which numpy's loops beat a product's setup (measured)


def _product_dtype(arrays) -> bool:
    return all(a.dtype in (np.float32, np.float64) for a in arrays) and \
        len({a.dtype for a in arrays}) == 1


def _distinct(term, array):
    """(term without repeated letters, array): a repeated letter takes the diagonal."""
    unique = "".join(dict.fromkeys(term))
    if unique == term:
        return term, array
    return unique, np.einsum(f"{term}->{unique}", array)


def _sum_out(term, array, keep):
    """Sums the letters of `term` that are not in `keep` (they occur nowhere else)."""
    axes = tuple(k for k, c in enumerate(term) if c not in keep)
    if not axes:
        return term, array
    return "".join(c for c in term if c in keep), array.sum(axis=axes)


def _pair(ta, a, tb, b, out):
    """The contraction of a (letters ta) with b (letters tb) into letters `out`."""
    ta, a = _sum_out(ta, a, set(tb) | set(out))
    tb, b = _sum_out(tb, b, set(ta) | set(out))
    batch = [c for c in out if c in ta and c in tb]
    inner = [c for c in ta if c in tb and c not in out]
    rows = [c for c in ta if c not in tb]
    cols = [c for c in tb if c not in ta]
    size = dict(zip(ta, a.shape)) | dict(zip(tb, b.shape))
    dims = [math.prod(size[c] for c in group) for group in (batch, rows, inner, cols)]
    a3 = np.ascontiguousarray(a.transpose([ta.index(c) for c in batch + rows + inner]))
    b3 = np.ascontiguousarray(b.transpose([tb.index(c) for c in batch + inner + cols]))
    c3 = _core.matmul_forward(a3.reshape(dims[0], dims[1], dims[2]),
                              b3.reshape(dims[0], dims[2], dims[3]))
    letters = batch + rows + cols
    c = c3.reshape([size[x] for x in letters])
    return c.transpose([letters.index(x) for x in out])


def einsum(spec, *arrays, work):
    """numpy.einsum(spec, *arrays) for an explicit spec (with "->"), `work` the multiply-adds of
    its naive loop."""
    if work <= _SMALL_WORK or len(arrays) < 2 or not _product_dtype(arrays):
        return np.einsum(spec, *arrays, optimize=len(arrays) > 2)
    lhs, out = spec.split("->")
    operands = [_distinct(t, a) for t, a in zip(lhs.split(","), arrays)]
    if len(operands) > 2:
        path = np.einsum_path(spec, *arrays, optimize="greedy")[0][1:]
    else:
        path = [(0, 1)]
    for pair in path:
        picked = [operands[i] for i in pair]
        for i in sorted(pair, reverse=True):
            del operands[i]
        remaining = set(out).union(*(t for t, _ in operands))
        letters = "".join(dict.fromkeys(c for t, _ in picked for c in t if c in remaining))
        if not operands:
            letters = out
        if len(picked) == 1:
            (term, array), = picked
            result = np.einsum(f"{term}->{letters}", array)
        else:
            (ta, a), (tb, b) = picked
            result = _pair(ta, a, tb, b, letters)
        operands.append((letters, result))
    (term, result), = operands
    return result if term == out else np.einsum(f"{term}->{out}", result)
