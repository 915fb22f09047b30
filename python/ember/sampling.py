"""ember.multinomial: indices drawn from rows of non-negative weights, from ember's generator
(so ember.manual_seed or generator= make runs reproducible; streams differ from PyTorch's)."""
from __future__ import annotations

import numpy as np

from .creation import _finish
from .random import _resolve


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """num_samples category indices per row of input (1-D: one distribution, 2-D: one per
    row), each chosen with probability weight / row sum. Without replacement a category is
    drawn at most once (sequentially, renormalising the rest). Returns int64."""
    p = input._array
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                           f"{tuple(p.shape)}")
    if p.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got "
                           f"{input.dtype}")
    if isinstance(num_samples, bool) or int(num_samples) != num_samples or num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got "
                           f"{num_samples})")
    num_samples = int(num_samples)
    rows = p.reshape(-1, p.shape[-1]).astype(np.float64)
    n = rows.shape[1]
    if not replacement and num_samples > n:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           f"without replacement ({num_samples} > {n})")
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    if n == 0 or (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    rng = _resolve(generator)
    draw = _with_replacement if replacement else _without_replacement
    out = draw(rows, num_samples, rng)
    return _finish(out.reshape(p.shape[:-1] + (num_samples,)))


def _with_replacement(rows, num_samples, rng):
    """Inverse CDF: u uniform in [0, total) falls in category i with probability w_i / total."""
    cdf = np.cumsum(rows, axis=1)
    u = rng.random((rows.shape[0], num_samples)) * cdf[:, -1:]
    last = rows.shape[1] - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # last non-zero category
    out = np.empty(u.shape, np.int64)
    for r in range(rows.shape[0]):
        # side="right" skips zero-weight categories; rounding cannot go past the last non-zero.
        out[r] = np.minimum(np.searchsorted(cdf[r], u[r], side="right"), last[r])
    return out


def _without_replacement(rows, num_samples, rng):
    """The exponential race: the k smallest E_i / w_i (E_i ~ Exp(1)) are k draws without
    replacement, each in proportion to the weights not yet drawn."""
    with np.errstate(divide="ignore"):
        keys = rng.exponential(size=rows.shape) / rows  # weight 0 -> inf: drawn last
    return np.argsort(keys, axis=1, kind="stable")[:, :num_samples].astype(np.int64)
