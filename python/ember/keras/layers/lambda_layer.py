"""keras.layers.Lambda: a Python function of the inputs used as a layer.

As in Keras 3, ``get_config`` stores a Python lambda as marshalled bytecode (base64, with its
defaults and closure) and a named function by name. Loading bytecode runs code from the file, so
``from_config`` refuses it unless safe mode is off (``load_model(..., safe_mode=False)``); a named
function is found in ``custom_objects`` or among keras.activations, never imported.
"""
from __future__ import annotations

import base64
import builtins
import inspect
import marshal
import numbers
import types
import warnings

import numpy as np

import ember
from ... import keras as keras_face
from .. import activations
from ..safe_mode import in_safe_mode
from .layer import Layer

_PLAIN = (type(None), bool, int, float, str)


def _plain(value) -> bool:
    """Whether a value can go into a saved config (JSON-like data)."""
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return isinstance(value, _PLAIN)


def _serialize_function(fn, what):
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        closure = None if fn.__closure__ is None else [c.cell_contents for c in fn.__closure__]
        if not (_plain(fn.__defaults__) and _plain(closure)):
            raise ValueError(f"Lambda: the {what} lambda captures or defaults to values that "
                             "cannot be saved (only numbers, strings, None and lists/dicts of "
                             "them can). Pass such values through `arguments`, or subclass "
                             "keras.Layer.")
        code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
        return {"class_name": "__lambda__",
                "config": {"code": code, "defaults": fn.__defaults__, "closure": closure}}
    if callable(fn) and hasattr(fn, "__name__"):
        return {"module": getattr(fn, "__module__", None), "class_name": "function",
                "config": fn.__name__, "registered_name": "function"}
    raise ValueError(f"Invalid input type for serialization. Received: {fn!r} of type "
                     f"{type(fn).__name__}.")


def _load_lambda(config, safe_mode):
    if safe_mode:
        raise ValueError(
            "Requested the deserialization of a `Lambda` layer whose `function` is a Python "
            "lambda. This carries a potential risk of arbitrary code execution and thus it is "
            "disallowed by default. If you trust the source of the artifact, you can override "
            "this error by passing `safe_mode=False` to the loading function, or calling "
            "`ember.keras.safe_mode.enable_unsafe_deserialization()`.")
    code = marshal.loads(base64.decodebytes(config["code"].encode("ascii")))
    defaults = config.get("defaults")
    closure = config.get("closure")
    # The names a saved lambda may use beside builtins: keras (ember's), ember and np.
    scope = {"__builtins__": builtins, "keras": keras_face, "ember": ember, "np": np}
    return types.FunctionType(code, scope, code.co_name,
                              None if defaults is None else tuple(defaults),
                              None if closure is None else
                              tuple(types.CellType(v) for v in closure))


def _deserialize_function(spec, custom_objects, safe_mode, what):
    if not isinstance(spec, dict):
        raise ValueError(f"Lambda: invalid {what} specification: {spec!r:.80}")
    if spec.get("class_name") == "__lambda__":
        return _load_lambda(spec["config"], safe_mode)
    name = spec.get("config")
    if spec.get("class_name") == "function" and isinstance(name, str):
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        if name in activations._BY_NAME:
            return activations._BY_NAME[name]
        raise ValueError(f"Lambda: could not locate the function {name!r} (module "
                         f"{spec.get('module')!r}). ember imports nothing named in a file: "
                         "pass it in `custom_objects`.")
    raise ValueError(f"Lambda: invalid {what} specification: {spec!r:.80}")


def _tensor_config(mask):
    array = mask.numpy() if isinstance(mask, ember.Tensor) else np.asarray(mask)
    return {"class_name": "__tensor__",
            "config": {"value": array.tolist(), "dtype": str(array.dtype)}}


class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``: calls
    ``function(inputs, **arguments)`` (plus ``mask=``/``training=`` if the function takes
    them)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise ValueError(f"Lambda: `function` must be callable. Received: {function!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError("Lambda: `arguments` must be a dict of keyword arguments. "
                             f"Received: arguments={arguments!r}")
        if output_shape is not None and not callable(output_shape):
            shape = tuple(output_shape) if isinstance(output_shape, (list, tuple)) else None
            if shape is None or any(d is not None and (isinstance(d, bool) or not isinstance(
                    d, numbers.Integral) or d < 0) for d in shape):
                raise ValueError("Lambda: output_shape must be a tuple of non-negative integers "
                                 "(or None), or a function of the input shape. Received: "
                                 f"output_shape={output_shape!r}")
            output_shape = shape
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = self.training if training is None else bool(training)
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        if self.mask is None:
            if mask is not None:  # Keras: without `mask=` a Lambda does not support masking
                warnings.warn(f"Layer '{self.name}' (of type Lambda) was passed an input with a "
                              "mask attached to it. However, this layer does not support "
                              "masking and will therefore destroy the mask information. "
                              "Downstream layers will not see the mask.")
            return None
        if isinstance(self.mask, ember.Tensor):
            return self.mask
        return ember.from_numpy(np.asarray(self.mask))

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)  # runs the function on a probe
        if callable(self._output_shape):
            return tuple(self._output_shape(tuple(input_shape)))
        return (tuple(input_shape)[0],) + self._output_shape

    def get_config(self):
        config = {**super().get_config(),
                  "function": _serialize_function(self.function, "function")}
        if self._output_shape is not None:
            config["output_shape"] = (_serialize_function(self._output_shape, "output_shape")
                                      if callable(self._output_shape) else self._output_shape)
        if self.mask is not None:
            config["mask"] = (_serialize_function(self.mask, "mask") if callable(self.mask)
                              else _tensor_config(self.mask))
        if not _plain(self.arguments):
            raise ValueError("Lambda: `arguments` holds values that cannot be saved (only "
                             "numbers, strings, None and lists/dicts of them can). Received: "
                             f"{self.arguments!r:.100}")
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """The Lambda ``get_config`` describes. Bytecode loads only when safe mode is off
        (``safe_mode=False`` here, or the ambient ``SafeModeScope``); unset counts as safe."""
        effective = safe_mode if safe_mode is not None else in_safe_mode()
        safe = effective is not False
        config = dict(config)
        config["function"] = _deserialize_function(config["function"], custom_objects, safe,
                                                   "function")
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _deserialize_function(shape, custom_objects, safe,
                                                           "output_shape")
        mask = config.get("mask")
        if isinstance(mask, dict):
            if mask.get("class_name") == "__tensor__":
                inner = mask["config"]
                config["mask"] = ember.from_numpy(np.asarray(inner["value"],
                                                             dtype=inner["dtype"]))
            else:
                config["mask"] = _deserialize_function(mask, custom_objects, safe, "mask")
        return cls(**config)
