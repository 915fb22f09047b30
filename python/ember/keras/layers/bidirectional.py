"""keras.layers.Bidirectional: a recurrent layer run forwards and backwards, outputs merged.

As in Keras 3, the forward layer is rebuilt from the given layer's config (fresh weights, name
"forward_<name>") and the backward one likewise with go_backwards=True (name
"backward_<name>") unless ``backward_layer`` is given; the backward outputs are flipped back to
input order when returning sequences, and both layers output zeros at masked steps then.
"""
from __future__ import annotations

import ember
from .layer import Layer

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _rebuilt(layer, prefix, **overrides):
    config = {**layer.get_config(), **overrides}
    name = layer.name[len(prefix):] if layer.name.startswith(prefix) else layer.name
    config["name"] = prefix + name
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Bidirectional wrapper for recurrent layers (SimpleRNN, LSTM, GRU)."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `Bidirectional` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError("`backward_layer` need to be a `keras.layers.Layer` instance. "
                             f"Received: {backward_layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should "
                             'be one of {"sum", "mul", "ave", "concat", None}')
        if weights is not None:
            raise NotImplementedError("Bidirectional: the `weights` argument is not supported "
                                      "by ember; call set_weights() once the layer is built")
        for owner in (layer, backward_layer):
            if owner is not None and not hasattr(owner, "go_backwards"):
                raise ValueError(f"Bidirectional: {type(owner).__name__} is not a recurrent "
                                 "layer (it has no `go_backwards`, `return_sequences` and "
                                 "`return_state` attributes)")
        super().__init__(**kwargs)
        self.forward_layer = _rebuilt(layer, "forward_")
        if backward_layer is None:
            self.backward_layer = _rebuilt(layer, "backward_", go_backwards=True)
        else:
            self.backward_layer = backward_layer
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = False

    def _verify_layer_config(self):
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             f"`go_backwards` value. Received: forward_layer.go_backwards "
                             f"{fwd.go_backwards}, backward_layer.go_backwards="
                             f"{bwd.go_backwards}")
        for attr in ("return_sequences", "return_state"):
            if getattr(fwd, attr) != getattr(bwd, attr):
                raise ValueError("Forward layer and backward layer are expected to have the "
                                 f'same value for attribute "{attr}", got '
                                 f'"{getattr(fwd, attr)}" for forward layer and '
                                 f'"{getattr(bwd, attr)}" for backward layer')

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            sub._maybe_build(tuple(input_shape))
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        forward_state = backward_state = None
        if initial_state is not None:
            # Keras: the first half of the states goes to the forward layer.
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask,
                               training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask,
                                    training=training)
        states = ()
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]  # back to input order
        if self.merge_mode == "concat":
            output = ember.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            return (output + states) if self.merge_mode is None else (output,) + states
        return output

    def compute_output_shape(self, input_shape):
        output_shape = self.forward_layer.compute_output_shape(input_shape)
        state_shapes = ()
        if self.return_state:
            output_shape, state_shapes = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = tuple(output_shape[:-1]) + (output_shape[-1] * 2,)
        elif self.merge_mode is None:
            output_shape = (output_shape, output_shape)
        if self.return_state:
            if self.merge_mode is None:
                return output_shape + state_shapes + state_shapes
            return (output_shape,) + state_shapes + state_shapes
        return output_shape

    def compute_mask(self, inputs, mask):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = (mask, mask) if not self.merge_mode else mask
        else:
            output_mask = (None, None) if not self.merge_mode else None
        if self.return_state:
            states = (None,) * (2 * self.forward_layer.state_count)
            return (output_mask,) + states if self.merge_mode else output_mask + states
        return output_mask

    def get_config(self):
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": {"class_name": type(self.forward_layer).__name__,
                          "config": self.forward_layer.get_config()},
                "backward_layer": {"class_name": type(self.backward_layer).__name__,
                                   "config": self.backward_layer.get_config()}}

    @classmethod
    def from_config(cls, config):
        from ..saving import deserialize_layer  # ember's own layer classes only

        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"])
        return cls(**config)
