"""Keras weight initializers (``keras.initializers``) with Keras' formulas.

Draws come from ember's global generator (so ``ember.manual_seed`` makes them repeatable), or
from a private generator when an initializer is given ``seed=``. An initializer is called as
``init(shape, dtype=None)`` with the Keras layout of the weight (a Dense kernel is (in, out))
and returns an ember Tensor.
"""
from __future__ import annotations

import math

import numpy as np

import ember
from .seeds import seeded_generator

# Keras scales truncated normals by this (the std of a unit normal truncated to [-2, 2]).
_TRUNCATED_STD = 0.87962566103423978


def _generator(seed):
    return seeded_generator(seed)


def _uniform(shape, low, high, generator) -> np.ndarray:
    kwargs = {} if generator is None else {"generator": generator}
    u = ember.rand(*shape, dtype=ember.float64, **kwargs).numpy()
    return low + (high - low) * u


def _normal(shape, generator) -> np.ndarray:
    kwargs = {} if generator is None else {"generator": generator}
    return ember.randn(*shape, dtype=ember.float64, **kwargs).numpy()


def _truncated_normal(shape, generator) -> np.ndarray:
    """Unit normal with values beyond 2 standard deviations re-drawn (Keras/TF semantics)."""
    z = _normal(shape, generator).reshape(-1)
    bad = np.abs(z) > 2.0
    while bad.any():
        z[bad] = _normal((int(bad.sum()),), generator)
        bad = np.abs(z) > 2.0
    return z.reshape(shape)


def compute_fans(shape):
    """Keras' (fan_in, fan_out) of a weight shape in Keras layout."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``_sample(shape) -> ndarray``."""

    def __init__(self, seed=None):
        self.seed = seed
        self._gen = _generator(seed)

    def __call__(self, shape, dtype=None):
        shape = tuple(int(s) for s in shape)
        np_dtype = ember.float32.numpy if dtype is None else ember.dtypes.to_numpy_dtype(dtype)
        values = np.array(self._sample(shape), dtype=np_dtype, order="C")  # (shape () stays)
        return ember.from_numpy(values)

    def _sample(self, shape):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"seed": self.seed}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    def __init__(self):
        super().__init__()

    def _sample(self, shape):
        return np.zeros(shape)

    def get_config(self):
        return {}


class Ones(Initializer):
    def __init__(self):
        super().__init__()

    def _sample(self, shape):
        return np.ones(shape)

    def get_config(self):
        return {}


class Constant(Initializer):
    def __init__(self, value=0.0):
        super().__init__()
        self.value = value

    def _sample(self, shape):
        return np.broadcast_to(np.asarray(self.value, dtype=np.float64), shape)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def _sample(self, shape):
        return self.mean + self.stddev * _normal(shape, self._gen)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def _sample(self, shape):
        return self.mean + self.stddev * _truncated_normal(shape, self._gen)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def _sample(self, shape):
        return _uniform(shape, self.minval, self.maxval, self._gen)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """Keras' VarianceScaling: the base of the Glorot, He and LeCun initializers."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if scale <= 0.0:
            raise ValueError("VarianceScaling: `scale` must be positive float. "
                             f"Received: scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: invalid `mode` argument: {mode!r}. "
                             f"Expected one of {self._MODES}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: invalid `distribution` argument: "
                             f"{distribution!r}. Expected one of {self._DISTRIBUTIONS}")
        super().__init__(seed)
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def _sample(self, shape):
        fan_in, fan_out = compute_fans(shape)
        scale = self.scale
        if self.mode == "fan_in":
            scale /= max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale /= max(1.0, fan_out)
        else:
            scale /= max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution == "truncated_normal":
            return (math.sqrt(scale) / _TRUNCATED_STD) * _truncated_normal(shape, self._gen)
        if self.distribution == "untruncated_normal":
            return math.sqrt(scale) * _normal(shape, self._gen)
        limit = math.sqrt(3.0 * scale)
        return _uniform(shape, -limit, limit, self._gen)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class Orthogonal(Initializer):
    """Keras' Orthogonal: ``gain`` times the Q factor of the QR decomposition of a normal
    matrix (sign-corrected so it is uniformly distributed), for shape (rows..., cols) with the
    leading dimensions flattened into rows."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def _sample(self, shape):
        if len(shape) < 2:
            raise ValueError("Orthogonal: the tensor to initialize must be at least "
                             f"two-dimensional. Received: shape={shape} of rank {len(shape)}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = _normal((max(rows, cols), min(rows, cols)), self._gen)
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


def _preset(name, scale, mode, distribution):
    class Preset(VarianceScaling):
        def __init__(self, seed=None):
            super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

        def get_config(self):
            return {"seed": self.seed}

    Preset.__name__ = Preset.__qualname__ = name
    Preset.__doc__ = f"Keras {name}: VarianceScaling(scale={scale}, mode={mode!r}, " \
                     f"distribution={distribution!r})."
    return Preset


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal")

_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    # Keras' short aliases (Embedding's default "uniform" is RandomUniform(-0.05, 0.05)).
    "uniform": RandomUniform, "normal": RandomNormal,
}
# Keras also accepts the class names ("GlorotUniform").
_BY_NAME.update({cls.__name__: cls for cls in list(_BY_NAME.values())})
_BY_NAME["OrthogonalInitializer"] = Orthogonal  # Keras 3's class name

# Keras' lower-case function aliases: keras.initializers.glorot_uniform(seed=None) etc.
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
orthogonal = OrthogonalInitializer = Orthogonal


def get(identifier):
    """An initializer from a name, an Initializer instance or class, or a callable
    ``f(shape, dtype=None)``."""
    if isinstance(identifier, str):
        try:
            return _BY_NAME[identifier]()
        except KeyError:
            valid = sorted(k for k in _BY_NAME if k.islower())
            raise ValueError(f"Could not interpret initializer identifier: {identifier!r}. "
                             f"Valid names are: {', '.join(valid)}") from None
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def serialize(init):
    """Keras' form {"class_name", "config"} for ember's initializers; custom callables give
    their name (keras.saving refuses to save those)."""
    if isinstance(init, Initializer):
        return {"class_name": type(init).__name__, "config": init.get_config()}
    return getattr(init, "__name__", repr(init))


def deserialize(spec):
    """The initializer a serialize() dict describes, looked up among ember's own initializer
    classes only (never imported by name)."""
    cls = _BY_NAME.get(spec.get("class_name"))
    if not (isinstance(cls, type) and issubclass(cls, Initializer)):
        raise ValueError(f"Unknown initializer class: {spec.get('class_name')!r}")
    return cls(**spec.get("config", {}))
