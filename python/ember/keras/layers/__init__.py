"""keras.layers: Keras layers built on ember.nn Modules and ember.nn.functional ops."""
from .activation import Activation
from .dense import Dense
from .dropout import Dropout
from .flatten import Flatten
from .input_layer import Input, InputLayer
from .layer import Layer

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer"]
