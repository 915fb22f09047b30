"""ember.keras: the Keras-style face of ember (``from ember import keras``).

Keras layers are configured ember.nn Modules; training runs through ember.nn.functional ops,
autograd and ember.optim. Supported: Sequential models, functional models
(``keras.Model(inputs, outputs)``, see functional.py and engine/) and subclassed Models. Models
save to Keras 3's ``.keras``, ``.weights.h5`` and legacy ``.h5`` files or ember's ``.ember``
(``model.save``, ``keras.models.load_model``; see saving.py).
"""
from . import activations, callbacks, datasets, initializers, layers, losses, metrics
from . import ops, optimizers, utils
from . import constraints, regularizers
from . import models, saving
from . import backend, config, random
from . import distribution
from . import preprocessing
from . import wrappers  # (scikit-learn only when a wrapper is used)
from .engine.keras_tensor import KerasTensor
from .layers import Input, Layer
from .models import Model, Sequential
from .regularizers import Regularizer

# The Keras API version ember's face follows (ember's own version is ember.__version__).
__version__ = "3.15.1"


def version():
    return __version__


__all__ = ["Input", "KerasTensor", "Layer", "Model", "Regularizer", "Sequential", "activations",
           "callbacks", "constraints", "datasets", "initializers", "layers", "losses", "metrics",
           "models", "optimizers", "regularizers", "saving", "utils"]
__all__ += ["backend", "config", "ops", "random", "version"]
__all__ += ["preprocessing"]
__all__ += ["wrappers"]
