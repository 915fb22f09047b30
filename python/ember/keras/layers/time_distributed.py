"""keras.layers.TimeDistributed: one layer applied to every time step of (batch, time, ...).

As in Keras 3 the wrapped layer runs once per step on (batch, ...) and the results are stacked
on axis 1, so layers whose result depends on the whole batch (BatchNormalization while training)
see one step's batch at a time. Layers that compute each sample on its own (_PER_SAMPLE) give
the same result in one call on (batch * time, ...), which is several times faster. The weights
are the wrapped layer's, shared by all steps."""
from __future__ import annotations

import inspect

import ember
from .activation import Activation
from .conv import Conv1D, Conv2D
from .dense import Dense
from .embedding import Embedding
from .flatten import Flatten
from .global_pooling import (GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
                             GlobalMaxPooling2D)
from .layer import Layer
from .layer_normalization import LayerNormalization
from .pooling import AveragePooling1D, AveragePooling2D, MaxPooling1D, MaxPooling2D
from .reshape import Reshape
from .zero_padding import ZeroPadding1D, ZeroPadding2D

# Exact classes (a subclass may do anything) with no batch statistics and no randomness.
_PER_SAMPLE = (Activation, AveragePooling1D, AveragePooling2D, Conv1D, Conv2D, Dense, Embedding,
               Flatten, GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalMaxPooling1D,
               GlobalMaxPooling2D, LayerNormalization, MaxPooling1D, MaxPooling2D, Reshape,
               ZeroPadding1D, ZeroPadding2D)


def _takes(layer, name) -> bool:
    try:
        return name in inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False


class TimeDistributed(Layer):
    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True
        self._layer_takes_training = _takes(layer, "training")
        self._layer_takes_mask = _takes(layer, "mask")

    def _child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at "
                             f"least 3 dimensions, received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._child_input_shape(tuple(input_shape)))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._child_input_shape(shape)
        if mask is not None:
            mask = mask if isinstance(mask, ember.Tensor) else ember.from_numpy(mask)
            if mask.ndim < 2 or tuple(mask.shape[:2]) != shape[:2]:
                raise ValueError("The `mask` passed to the `TimeDistributed` layer has a shape "
                                 f"{tuple(mask.shape)} that is incompatible with the input "
                                 f"shape {shape}. The first two dimensions of the mask (batch "
                                 "size and timesteps) must match the input's first two "
                                 f"dimensions. Expected mask shape prefix: {shape[:2]}.")
        kwargs = {}
        if training is not None and self._layer_takes_training:
            kwargs["training"] = training
        layer = self.layer
        if type(layer) in _PER_SAMPLE and not (layer._forward_hooks or layer._forward_pre_hooks):
            merged = layer(inputs.reshape(shape[0] * shape[1], *shape[2:]), **kwargs)
            return merged.reshape(shape[0], shape[1], *merged.shape[1:])
        steps = []
        for t in range(shape[1]):
            if mask is not None and self._layer_takes_mask:
                kwargs["mask"] = mask[:, t]
            steps.append(self.layer(inputs[:, t], **kwargs))
        return ember.stack(steps, dim=1)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_input_shape(tuple(input_shape)))
        return (child[0], input_shape[1], *child[1:])

    def get_config(self):
        return {**super().get_config(),
                "layer": {"class_name": type(self.layer).__name__,
                          "config": self.layer.get_config()}}

    @classmethod
    def from_config(cls, config):
        from ..saving import deserialize_layer  # ember's own layer classes only (as Bidirectional)

        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)
