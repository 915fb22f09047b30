"""keras.optimizers: Keras 3's optimizers with its arguments, defaults and update rules, and
``keras.optimizers.schedules``. See optimizer.py for how they run on ember.optim."""
from ..serialization_lib import deserialize_object, serialize_object
from . import schedules
from .adadelta import Adadelta
from .adamax import Adamax
from .ftrl import Ftrl
from .lion import Lion
from .nadam import Nadam
from .optimizer import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
            "nadam": Nadam, "adamax": Adamax, "adadelta": Adadelta, "ftrl": Ftrl, "lion": Lion}

__all__ = ["Optimizer", "schedules", "get", "serialize", "deserialize",
           *(cls.__name__ for cls in _BY_NAME.values())]


def serialize(optimizer) -> dict:
    """{"module", "class_name", "config", "registered_name"} of a built-in optimizer."""
    return serialize_object(optimizer, {c.__name__: c for c in _BY_NAME.values()},
                            "keras.optimizers", "optimizer")


def deserialize(config, custom_objects=None) -> Optimizer:
    """An optimizer from ``{"class_name": ..., "config": {...}}`` (its class name, any case)."""
    if isinstance(config, dict) and isinstance(config.get("class_name"), str):
        config = {**config, "class_name": config["class_name"].lower()}
    return deserialize_object(config, _BY_NAME, "optimizer", custom_objects)


def get(identifier) -> Optimizer:
    """An optimizer from a name (Keras defaults) or an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Valid "
                             f"names are: {', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if hasattr(identifier, "param_groups"):
        raise ValueError("compile(optimizer=...) expects a keras optimizer or its name; an "
                         f"ember.optim optimizer ({type(identifier).__name__}) cannot be used "
                         "with the Keras face")
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
