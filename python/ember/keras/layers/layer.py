"""keras.layers.Layer: an ember.nn.Module with Keras' lazy ``build``, names and weight API."""
from __future__ import annotations

import re

import numpy as np

import ember
from ...nn import Module, Parameter
from .. import initializers

_name_counts: dict = {}


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()  # Keras: Conv2D -> conv2d


def unique_name(prefix: str) -> str:
    """Keras naming: the first "dense", then "dense_1", "dense_2", ..."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    _name_counts.clear()


def as_tensor(x):
    """Layer inputs may be ember Tensors or array-likes (converted to float32 like Keras)."""
    if isinstance(x, ember.Tensor):
        return x
    return ember.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


class Layer(Module):
    """Base class of Keras layers.

    Subclasses create weights in ``build(input_shape)`` with ``add_weight`` (run once, on the
    first call, with the shape of that first input) and compute in ``call(inputs, ...)``.
    """

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None,
                 batch_size=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword arguments: "
                            f"{sorted(kwargs)}")
        super().__init__()
        # Keras layers run in inference mode unless fit/train_on_batch train them (or a call
        # passes training=True): `model(x)` after training must not drop units.
        self.__dict__["training"] = False
        if name is None:
            name = unique_name(_snake_case(type(self).__name__))
        elif not isinstance(name, str):
            raise ValueError(f"{type(self).__name__}: name must be a string. Received: "
                             f"name={name!r}")
        self.name = name
        self.built = False
        self._trainable = bool(trainable)
        if dtype not in (None, "float32", ember.float32):
            raise NotImplementedError(f"{type(self).__name__}: ember Keras layers compute in "
                                      f"float32 only. Received: dtype={dtype!r}")
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        # Kept for Sequential, which turns it into an InputLayer (Keras semantics).
        self._input_shape_arg = None if input_shape is None else tuple(input_shape)
        self._batch_size_arg = batch_size
        self._weight_order: list = []

    # ---- weights -----------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   regularizer=None, constraint=None, name=None):
        """Creates a Parameter of ``shape`` (Keras layout), registered as attribute ``name``.
        The default initializer is "glorot_uniform", as in Keras."""
        if regularizer is not None or constraint is not None:
            raise NotImplementedError(f"{type(self).__name__}.add_weight: regularizers and "
                                      "constraints are not supported by ember")
        if dtype not in (None, "float32", ember.float32):
            raise NotImplementedError(f"{type(self).__name__}.add_weight: only float32 weights "
                                      f"are supported. Received: dtype={dtype!r}")
        attr_name = name or f"weight_{len(self._weight_order)}"
        shape = () if shape is None else tuple(shape)
        values = initializers.get(initializer or "glorot_uniform")(shape)
        values = values.numpy() if isinstance(values, ember.Tensor) else np.asarray(values)
        param = Parameter(ember.from_numpy(np.ascontiguousarray(values, dtype=np.float32)),
                          requires_grad=bool(trainable and self._trainable))
        setattr(self, attr_name, param)
        self._weight_order.append(attr_name)
        return param

    def _own_weights(self):
        """(attribute name, Parameter) of this layer only, in Keras order."""
        names = self._weight_order + [n for n in self._parameters if n not in self._weight_order]
        return [(n, self._parameters[n]) for n in names if self._parameters.get(n) is not None]

    def _sublayers(self):
        return [m for m in self.children() if isinstance(m, Layer)]

    @property
    def weights(self):
        own = [p for _, p in self._own_weights()]
        return own + [w for layer in self._sublayers() for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.requires_grad] if self.trainable else []

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for _, p in self._own_weights():
            p.requires_grad_(self._trainable)
        for layer in self._sublayers():
            layer.trainable = value

    # Keras layouts may differ from the stored (PyTorch) layout; Dense overrides these.
    def _to_keras_layout(self, attr_name: str, array: np.ndarray) -> np.ndarray:
        return array

    def _from_keras_layout(self, attr_name: str, array: np.ndarray) -> np.ndarray:
        return array

    def _keras_shape(self, attr_name: str, param) -> tuple:
        return tuple(self._to_keras_layout(attr_name, np.empty(param.shape, np.float32)).shape)

    def get_weights(self):
        """The layer's weights as NumPy arrays, in Keras order and layout."""
        own = [np.array(self._to_keras_layout(n, p.detach().numpy()), copy=True)
               for n, p in self._own_weights()]
        return own + [w for layer in self._sublayers() for w in layer.get_weights()]

    def set_weights(self, weights):
        """Sets the weights from NumPy arrays in Keras order and layout (as get_weights gives)."""
        weights = list(weights)
        slots = [(self, n, p) for n, p in self._own_weights()]
        slots += [(layer, n, p) for layer in self._all_sublayers() for n, p in
                  layer._own_weights()]
        if len(weights) != len(slots):
            raise ValueError(f'Layer "{self.name}" expected {len(slots)} weights, but received '
                             f"{len(weights)} input weights.")
        converted = []
        for (layer, n, p), w in zip(slots, weights):
            w = np.asarray(w)
            expected = layer._keras_shape(n, p)
            if tuple(w.shape) != expected:
                raise ValueError(f'Layer "{layer.name}" weight shape {expected} is not '
                                 f"compatible with provided weight shape {tuple(w.shape)}.")
            converted.append((p, layer._from_keras_layout(n, w)))
        with ember.no_grad():
            for p, w in converted:
                p.copy_(ember.from_numpy(np.array(w, dtype=p.dtype.numpy, order="C")))

    def _all_sublayers(self):
        out = []
        for layer in self._sublayers():
            out.append(layer)
            out.extend(layer._all_sublayers())
        return out

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but "
                             "the layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ---- build and call ----------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(tuple(input_shape))
            self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def forward(self, inputs, *args, **kwargs):
        if not isinstance(inputs, ember.Tensor):
            from .input_layer import KerasTensor  # (input_layer imports this module)

            if isinstance(inputs, KerasTensor):
                raise NotImplementedError(
                    f"{type(self).__name__}: calling a layer on keras.Input (the Keras "
                    "functional API) is not supported by ember; use keras.Sequential or "
                    "subclass keras.Model and define call().")
            inputs = as_tensor(inputs)
        self._maybe_build(inputs._array.shape)
        return self.call(inputs, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        """Output shape (None for the batch) found by running the layer on a batch of one."""
        input_shape = tuple(input_shape)
        probe = ember.zeros(*((1,) + tuple(input_shape[1:])))
        was_training = self.training
        self.eval()
        try:
            with ember.no_grad():
                out = self(probe)
        finally:
            self.train(was_training)
        return (input_shape[0],) + tuple(out.shape[1:])

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        """The layer ``get_config()`` describes (unbuilt: weights come with ``build``)."""
        from .. import initializers
        return cls(**{key: initializers.deserialize(value)
                      if key.endswith("_initializer") and isinstance(value, dict) else value
                      for key, value in config.items()})

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
