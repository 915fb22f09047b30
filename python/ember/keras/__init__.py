"""ember.keras: the Keras-style face of ember (``from ember import keras``).

Keras layers are configured ember.nn Modules; training runs through ember.nn.functional ops,
autograd and ember.optim. Supported: Sequential models and subclassed Models; the functional
API (``keras.Model(inputs, outputs)``) raises NotImplementedError. Models save to ember's safe
format (``model.save("m.ember")``, ``keras.models.load_model``; see saving.py).
"""
from . import activations, callbacks, datasets, initializers, layers, losses, metrics
from . import ops, optimizers, utils
from . import models, saving
from .layers import Input
from .models import Model, Sequential

__all__ = ["Input", "Model", "Sequential", "activations", "callbacks", "datasets", "initializers",
           "layers", "losses", "metrics", "models", "optimizers", "saving", "utils"]
