"""Keras 3's ``config.json`` (of a ``.keras`` zip, or the ``model_config`` of a legacy ``.h5``)
to and from ember's own configs.

Both sides use Keras' ``{"module", "class_name", "config", "registered_name"}`` objects; they
differ in the details Keras adds that ember has no use for: dtype policies (ember computes in
float32, so a float32 policy becomes the string "float32" and any other policy is refused by the
layer), ``shared_object_id``, options ember lacks such as ``quantization_config`` or
BatchNormalization's ``renorm`` (accepted only at Keras' default), and the ``module`` Keras needs to find a
built-in class, which ember adds on writing from the key the object sits under.
"""
from __future__ import annotations

_POLICIES = ("DTypePolicy", "FloatDTypePolicy")
# Keras options ember does not have, accepted (and dropped) at their Keras default only.
_KERAS_DEFAULTS = {"quantization_config": None, "input_axes": None, "output_axes": None,
                   "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99}

# The Keras module of a built-in object, from the config key (or key suffix) it sits under.
_MODULE_BY_KEY = (("_initializer", "keras.initializers"), ("_regularizer", "keras.regularizers"),
                  ("_constraint", "keras.constraints"), ("optimizer", "keras.optimizers"),
                  ("learning_rate", "keras.optimizers.schedules"), ("loss", "keras.losses"),
                  ("metrics", "keras.metrics"), ("layers", "keras.layers"),
                  ("layer", "keras.layers"), ("cell", "keras.layers"), ("cells", "keras.layers"),
                  ("forward_layer", "keras.layers"), ("backward_layer", "keras.layers"))
_MODEL_MODULES = {"Sequential": "keras", "Functional": "keras.src.models.functional"}


def from_keras(value, path: str = "config"):
    """A Keras config tree in ember's form (a new tree; ``value`` is left as it is)."""
    if isinstance(value, list):
        return [from_keras(item, path) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") in _POLICIES and isinstance(value.get("config"), dict):
        return value["config"].get("name")  # the layer itself refuses what is not float32
    out = {}
    for key, item in value.items():
        if key == "shared_object_id":
            continue
        if key in _KERAS_DEFAULTS:
            if item != _KERAS_DEFAULTS[key]:
                raise NotImplementedError(f"{path}: `{key}`={item!r:.80} is not supported by "
                                          f"ember (only {_KERAS_DEFAULTS[key]!r})")
            continue
        out[key] = from_keras(item, f"{path}.{key}")
    if key_is_node(out):
        # Keras records the defaults of its calls (mask=None, training=False); the outer call's
        # training decides anyway, as in Keras' functional replay.
        out["kwargs"] = {k: v for k, v in out["kwargs"].items()
                         if not (k == "mask" and v is None or k == "training" and v is False)}
    if str(out.get("module", "")).startswith("keras") \
            and out.get("registered_name") == out.get("class_name"):
        out["registered_name"] = None  # a Keras built-in (Functional, Adam) under its own name
    return out


def key_is_node(value: dict) -> bool:
    """Whether ``value`` is an inbound node of a functional config."""
    return set(value) == {"args", "kwargs"} and isinstance(value["kwargs"], dict)


def _module_for(key: str):
    for suffix, module in _MODULE_BY_KEY:
        if key == suffix or (suffix.startswith("_") and key.endswith(suffix)):
            return module
    return None


def to_keras(value, module=None):
    """ember's config tree in Keras' form: every serialized object carries the ``module`` and
    ``registered_name`` Keras' loader looks for (``module``: the one the enclosing key implies,
    e.g. any object inside ``loss`` comes from keras.losses)."""
    if isinstance(value, list):
        return [to_keras(item, module) for item in value]
    if not isinstance(value, dict):
        return value
    is_object = isinstance(value.get("class_name"), str) and "config" in value \
        and value["class_name"] != "__keras_tensor__"
    out = {k: to_keras(v, _module_for(k) or (None if is_object else module))
           for k, v in value.items()}
    if is_object:
        name = out["class_name"]
        if name in _MODEL_MODULES and out.get("registered_name") in (None, name):
            out["module"] = _MODEL_MODULES[name]
            out["registered_name"] = None if name == "Sequential" else name
        elif out.get("module") is None or str(out["module"]).startswith("ember."):
            if module is not None and out.get("registered_name") in (None, name):
                out["module"] = module
                out["registered_name"] = None
        out.setdefault("registered_name", None)
    return out


def model_config(model, spec: dict) -> dict:
    """``config.json`` of ``model`` from its serialized ``spec``: the Keras form plus the
    ``build_config`` Keras rebuilds subclassed models from."""
    out = to_keras(spec)
    shape = getattr(model, "_build_input_shape", None)
    out["build_config"] = {"input_shape": _plain(shape)}
    return out


def _plain(shape):
    if isinstance(shape, tuple):
        return [_plain(s) for s in shape]
    if isinstance(shape, list):
        return [_plain(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _plain(v) for k, v in shape.items()}
    return shape
