"""keras.config: the global settings Keras keeps (floatx, epsilon, image_data_format, ...).

ember computes Keras layers in float32 only, so ``set_floatx`` accepts "float32" and refuses
the others. ``image_data_format`` is the default ``data_format`` of the convolution, pooling and
padding layers (keras/layers/conv_utils.py reads it), as in Keras.
"""
from __future__ import annotations

from . import safe_mode

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"


def floatx() -> str:
    """The default float dtype, "float32" (the only one ember's Keras layers compute in)."""
    return _FLOATX


def set_floatx(value):
    if value not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError(f"Unknown `floatx` value: {value!r}. Expected one of 'float16', "
                         "'bfloat16', 'float32' or 'float64'")
    if value != "float32":
        raise NotImplementedError(f"keras.config.set_floatx({value!r}): ember's Keras layers "
                                  "compute in float32 only")


def epsilon() -> float:
    """The fuzz factor Keras adds to avoid dividing by zero (1e-7)."""
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """"channels_last" (Keras' default) or "channels_first": the default ``data_format``."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    global _IMAGE_DATA_FORMAT
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format!r}")
    _IMAGE_DATA_FORMAT = str(data_format)


def enable_unsafe_deserialization():
    """Keras' switch: from now on, loading a model may run the Python lambdas a Lambda layer
    stored (bytecode), as load_model(..., safe_mode=False) does for one call (safe_mode.py)."""
    safe_mode.enable_unsafe_deserialization()


def is_unsafe_deserialization_enabled() -> bool:
    return safe_mode.in_safe_mode() is False


def backend() -> str:
    """The name of the backend. ember is its own backend, so this is "ember" (not "torch"
    or "tensorflow"): scripts that branch on the backend must not take another library's
    path, whose tensors and functions ember's are not."""
    return "ember"
