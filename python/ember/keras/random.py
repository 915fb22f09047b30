"""keras.random: random tensors with Keras' seeding rules.

``seed`` may be an int (the same draw every call, as in Keras), a ``SeedGenerator`` (a new
draw each call, reproducible from its seed) or None (the global SeedGenerator, re-made from
Python's ``random`` after ``keras.utils.set_random_seed``, so seeded scripts repeat). Draws come
from NumPy's PCG64 generator keyed by the seed: the same seeds give the same numbers in ember
on every machine, though not Keras' numbers (each Keras backend has its own generator too).
"""
from __future__ import annotations

import numbers
import random as python_random

import numpy as np

import ember
from .ops.core import as_float, convert_to_numpy, convert_to_tensor, ember_dtype, normalize_axis


class SeedGenerator:
    """A seed state: each ``next()`` gives a new seed, the sequence fixed by ``seed``."""

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"SeedGenerator: unrecognized keyword arguments: {sorted(kwargs)}")
        if seed is None:
            seed = python_random.randint(1, int(1e9))
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise ValueError("SeedGenerator: argument `seed` must be an integer. Received: "
                             f"seed={seed!r}")
        self.name = name or "seed_generator"
        self._seed = int(seed)
        self._count = 0

    def next(self, ordered=True):
        self._count += 1
        return (self._seed, self._count)

    def get_config(self):
        return {"seed": self._seed}


_global_seed_generator = None


def reset_global_seed_generator():
    """Called by keras.utils.set_random_seed: the next unseeded draw starts a new sequence
    from the freshly seeded Python ``random``."""
    global _global_seed_generator
    _global_seed_generator = None


def _rng(seed) -> np.random.Generator:
    global _global_seed_generator
    if isinstance(seed, SeedGenerator):
        key = seed.next()
    elif seed is None:
        if _global_seed_generator is None:
            _global_seed_generator = SeedGenerator()
        key = _global_seed_generator.next()
    elif isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        key = (int(seed),)
    else:
        raise ValueError("keras.random: `seed` must be None, an integer or a "
                         f"keras.random.SeedGenerator. Received: seed={seed!r}")
    return np.random.default_rng([k % 2 ** 63 for k in key])


def _shape(shape):
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(d) for d in shape)


def _float_tensor(values, dtype):
    target = ember_dtype("float32" if dtype is None else dtype)
    if not target.is_floating_point:
        raise ValueError(f"keras.random: dtype must be a float dtype. Received: dtype={dtype!r}")
    return ember.from_numpy(np.ascontiguousarray(values, dtype=target.numpy))


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return _float_tensor(_rng(seed).normal(mean, stddev, _shape(shape)), dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    return _float_tensor(_rng(seed).uniform(minval, maxval, _shape(shape)), dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal values more than two standard deviations from the mean drawn again."""
    rng = _rng(seed)
    values = rng.standard_normal(_shape(shape))
    outside = np.abs(values) > 2.0
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return _float_tensor(mean + stddev * values, dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in [minval, maxval)."""
    target = ember_dtype(dtype)
    values = _rng(seed).integers(int(minval), int(maxval), _shape(shape))
    return ember.from_numpy(np.ascontiguousarray(values, dtype=target.numpy))


def gamma(shape, alpha, dtype=None, seed=None):
    return _float_tensor(_rng(seed).gamma(alpha, 1.0, _shape(shape)), dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    return _float_tensor(_rng(seed).beta(alpha, beta, _shape(shape)), dtype)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    counts = convert_to_numpy(counts).astype(np.int64)
    values = _rng(seed).binomial(counts, convert_to_numpy(probabilities), _shape(shape))
    return _float_tensor(values, dtype)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """(batch, num_samples) class indices drawn from softmax(logits) of each row."""
    logits = convert_to_numpy(logits).astype(np.float64)
    if logits.ndim != 2:
        raise ValueError("keras.random.categorical: logits must be 2-D (batch, classes). "
                         f"Received: logits.shape={logits.shape}")
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    rng = _rng(seed)
    draws = np.stack([rng.choice(probs.shape[1], size=int(num_samples), p=p) for p in probs])
    return ember.from_numpy(np.ascontiguousarray(draws, dtype=ember_dtype(dtype).numpy))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``inputs`` with a fraction ``rate`` zeroed and the rest scaled by 1 / (1 - rate)
    (differentiable in ``inputs``); ``noise_shape`` broadcasts one mask over some axes."""
    inputs = as_float(inputs)
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"keras.random.dropout: rate must be in [0, 1). Received: rate={rate}")
    shape = tuple(inputs.shape) if noise_shape is None else tuple(
        inputs.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    keep = _rng(seed).random(shape) >= float(rate)
    mask = ember.from_numpy((keep / (1.0 - float(rate))).astype(inputs.dtype.numpy))
    return inputs * mask


def shuffle(x, axis=0, seed=None):
    """``x`` with its entries along ``axis`` in a random order (differentiable)."""
    x = convert_to_tensor(x)
    axis = normalize_axis(axis, x.dim(), "shuffle")
    order = _rng(seed).permutation(x.shape[axis])
    return ember.index_select(x, axis, ember.from_numpy(order.astype(np.int64)))


__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal",
           "randint", "shuffle", "truncated_normal", "uniform"]
