"""keras.optimizers: Keras 3's optimizers with its arguments, defaults and update rules, and
``keras.optimizers.schedules``. See optimizer.py for how they run on ember.optim."""
from . import schedules
from .adadelta import Adadelta
from .adamax import Adamax
from .ftrl import Ftrl
from .lion import Lion
from .nadam import Nadam
from .optimizer import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad,
            "nadam": Nadam, "adamax": Adamax, "adadelta": Adadelta, "ftrl": Ftrl, "lion": Lion}

__all__ = ["Optimizer", "schedules", "get", *(cls.__name__ for cls in _BY_NAME.values())]


def get(identifier) -> Optimizer:
    """An optimizer from a name (Keras defaults) or an Optimizer instance."""
    if isinstance(identifier, Optimizer):
        return identifier
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
