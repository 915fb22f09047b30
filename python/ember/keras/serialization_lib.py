"""Keras' serialized form of built-in objects (optimizers, schedules, metrics):
``{"module", "class_name", "config", "registered_name"}``. Only classes of the given table are
ever rebuilt; nothing named in a config is imported."""
from __future__ import annotations


def serialize_object(obj, classes: dict, module: str, kind: str) -> dict:
    name = type(obj).__name__
    if classes.get(name) is not type(obj):
        raise NotImplementedError(f"serialize: {name} is not one of ember's built-in "
                                  f"{kind}s ({', '.join(sorted(classes))}); ember cannot "
                                  "serialize it")
    return {"module": module, "class_name": name, "config": obj.get_config(),
            "registered_name": None}


def deserialize_object(config, classes: dict, kind: str, custom_objects=None):
    """An object from ``{"class_name": ..., "config": {...}}``; ``classes`` maps the names
    accepted (Keras' spellings) to classes."""
    if custom_objects:
        raise NotImplementedError(f"deserialize: custom_objects are not supported by ember; "
                                  f"only its built-in {kind}s can be rebuilt")
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str) \
            or not isinstance(config.get("config", {}), dict):
        raise ValueError(f"deserialize: invalid {kind} specification: {config!r:.100}")
    cls = classes.get(config["class_name"])
    if cls is None:
        raise ValueError(f"deserialize: unknown {kind} {config['class_name']!r}")
    return cls.from_config(dict(config.get("config", {})))
