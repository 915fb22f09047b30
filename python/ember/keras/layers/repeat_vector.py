"""keras.layers.RepeatVector: (batch, features) -> (batch, n, features)."""
from __future__ import annotations

from .layer import Layer


class RepeatVector(Layer):
    def __init__(self, n, **kwargs):
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        super().__init__(**kwargs)
        self.n = n

    def build(self, input_shape):
        self._check_rank(tuple(input_shape))
        self.built = True

    def _check_rank(self, shape):
        if len(shape) != 2:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected ndim=2, found ndim={len(shape)}. Full shape received: "
                             f"{shape}")

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return inputs.unsqueeze(1).repeat(1, self.n, 1)

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
