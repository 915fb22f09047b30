"""keras.layers.Permute: reorders the non-batch axes; ``dims`` counts from 1, so (2, 1) swaps
the two axes after the batch."""
from __future__ import annotations

import numbers

from .layer import Layer


class Permute(Layer):
    def __init__(self, dims, **kwargs):
        if not isinstance(dims, (list, tuple)) or any(
                isinstance(d, bool) or not isinstance(d, numbers.Integral) for d in dims) \
                or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of "
                             "indices in `dims` must be consecutive and start from 1. Received "
                             f"dims={dims!r}")
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)

    def _check_rank(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected ndim={len(self.dims) + 1}, found ndim={len(shape)}. "
                             f"Full shape received: {shape}")

    def build(self, input_shape):
        self._check_rank(tuple(input_shape))
        self.built = True

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        self._check_rank(tuple(input_shape))
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}
