"""LazyLinear: Linear whose in_features is the last dimension of its first input."""
from __future__ import annotations

from ... import _core
from .._uninitialized import UninitializedParameter
from .lazy import LazyModuleMixin
from .linear import Linear
from .utils import _check_int


class LazyLinear(LazyModuleMixin, Linear):
    """Linear(in_features inferred, out_features); becomes a Linear on the first forward."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)  # PyTorch's placeholder: no features yet
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = _check_int("LazyLinear", "out_features", out_features, minimum=0)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs) -> None:
        if self.has_uninitialized_params():
            self.in_features = int(input.shape[-1])
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
        if self.in_features == 0:  # parameters loaded from a state_dict before any forward
            if input.shape[-1] != self.weight.shape[-1]:
                raise _core.ShapeError(f"LazyLinear: the in_features inferred from input "
                                       f"{tuple(input.shape)}: {input.shape[-1]} is not equal to "
                                       f"in_features from self.weight: {self.weight.shape[-1]}")
            self.in_features = int(input.shape[-1])
