"""einsum: the forward by numpy.einsum, the gradient of each operand by another einsum of the
output gradient with the other operands.

The equation is first made explicit: '...' becomes letters, the implicit output (letters seen
once, sorted, after the ellipsis) is written out, and size-1 dimensions are broadcast against
the same letter's size elsewhere, as PyTorch does."""
import math
import string
from collections import Counter

import numpy as np

from .. import _core
from . import einsum_contract
from ..autograd import Function


def _error(message):
    return _core.ShapeError(f"einsum(): {message}")


def parse(equation, shapes):
    """(input subscripts, output subscripts, size of each letter) with no '...' left."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise _error(f"fewer operands were provided than specified in the equation {equation!r}")
    if len(terms) < len(shapes):
        raise _error(f"more operands were provided than specified in the equation {equation!r}")
    for term in terms + [rhs]:
        if not all(c.isalpha() for c in term.replace("...", "")):
            raise _error(f"invalid subscript in {term!r} of equation {equation!r}; subscripts "
                         f"are letters and '...'")
    free = [c for c in string.ascii_letters if c not in eq]
    spans = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term.replace("...", ""))
        span = len(shape) - named if "..." in term else 0
        if span < 0 or ("..." not in term and named != len(shape)):
            raise _error(f"the number of subscripts in the equation ({named}) does not match the "
                         f"number of dimensions ({len(shape)}) for operand {i}"
                         + ("" if "..." in term else " and no ellipsis was given"))
        spans.append(span)
    ellipsis = "".join(free[:max(spans, default=0)])
    terms = [t.replace("...", ellipsis[len(ellipsis) - n:]) for t, n in zip(terms, spans)]
    if arrow:
        out = rhs.replace("...", ellipsis)
        for c in out:
            if out.count(c) > 1 or not any(c in t for t in terms):
                raise _error(f"output subscript {c} appears more than once or not in any input "
                             f"of equation {equation!r}")
    else:
        seen = Counter(c for t in terms for c in t if c not in ellipsis)
        out = ellipsis + "".join(sorted(c for c, n in seen.items() if n == 1))
    sizes = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        for c, n in zip(term, shape):
            prev = sizes.get(c, n)
            if prev != n and 1 not in (prev, n):
                raise _error(f"subscript {c} has size {n} for operand {i} which does not "
                             f"broadcast with previously seen size {prev} (shapes "
                             f"{[tuple(s) for s in shapes]})")
            sizes[c] = max(prev, n)
    return terms, out, sizes


def _einsum(spec, *arrays, work):
    """numpy.einsum's result, its products on ember's kernels (einsum_contract)."""
    return einsum_contract.einsum(spec, *arrays, work=work)


def _unique(term):
    return "".join(dict.fromkeys(term))


class Einsum(Function):
    def forward(self, *arrays, equation):
        dtypes = {a.dtype for a in arrays}
        if len(dtypes) > 1:
            raise TypeError(f"einsum(): expected all operands to have the same dtype, got "
                            f"{[str(a.dtype) for a in arrays]}")
        self.terms, self.out, self.sizes = parse(equation, [a.shape for a in arrays])
        self.shapes = [a.shape for a in arrays]
        self.arrays = [np.broadcast_to(a, tuple(self.sizes[c] for c in t))
                       for a, t in zip(arrays, self.terms)]
        self.work = math.prod(self.sizes.values())  # multiply-adds of the naive loop
        return np.asarray(_einsum(f"{','.join(self.terms)}->{self.out}", *self.arrays,
                                  work=self.work))

    def backward(self, g):
        return tuple(self._grad(i, g) if need else None
                     for i, need in enumerate(self.needs_input_grad))

    def _grad(self, i, g):
        term, sizes = self.terms[i], self.sizes
        others = [j for j in range(len(self.terms)) if j != i]
        letters = _unique(term)
        reachable = set(self.out).union(*(self.terms[j] for j in others))
        known = "".join(c for c in letters if c in reachable)
        spec = ",".join([self.out] + [self.terms[j] for j in others]) + "->" + known
        grad = _einsum(spec, g, *[self.arrays[j] for j in others], work=self.work)
        # Letters summed inside this operand alone get the same gradient along their length.
        grad = np.broadcast_to(grad.reshape([sizes[c] if c in known else 1 for c in letters]),
                               [sizes[c] for c in letters])
        if letters != term:  # a repeated letter (a diagonal): the gradient lies on it
            full = np.zeros([sizes[c] for c in term], g.dtype)
            np.einsum(f"{term}->{letters}", full)[...] = grad  # a writable view of full
            grad = full
        shape = self.shapes[i]
        axes = tuple(k for k, n in enumerate(shape) if n == 1 and grad.shape[k] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
        return np.ascontiguousarray(grad, dtype=g.dtype).reshape(shape)
