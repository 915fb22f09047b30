"""ember.keras: the Keras-style face of ember (``from ember import keras``).

Keras layers are configured ember.nn Modules; training runs through ember.nn.functional ops,
autograd and ember.optim. Supported: Sequential models and subclassed Models; the functional
API (``keras.Model(inputs, outputs)``) raises NotImplementedError. Models save to ember's safe
format (``model.save("m.ember")``, ``keras.models.load_model``; see saving.py).
"""
from . import activations, callbacks, datasets, initializers, layers, losses, metrics
from . import ops, optimizers, utils
from . import models, saving
from . import backend, config, random
from .layers import Input, Layer
from .models import Model, Sequential

# The Keras API version ember's face follows (ember's own version is ember.__version__).
__version__ = "3.15.1"


def version():
    return __version__


__all__ = ["Input", "Model", "Sequential", "activations", "callbacks", "datasets", "initializers",
           "layers", "losses", "metrics", "models", "optimizers", "saving", "utils"]
__all__ += ["Layer", "backend", "config", "ops", "random", "version"]
