"""parameters_to_vector / vector_to_parameters: all parameters as one flat vector and back."""
from __future__ import annotations

from ... import functions as F
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters) -> Tensor:
    """The parameters flattened and concatenated, in order (differentiable)."""
    return F.cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec, parameters) -> None:
    """Copies consecutive slices of vec into the parameters' data, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    for p in parameters:
        n = p.numel()
        if offset + n > vec.numel():
            raise ValueError(f"vector_to_parameters: vec has {vec.numel()} elements, fewer than "
                             "the parameters hold")
        p.data = vec[offset:offset + n].detach().reshape(*p.shape).to(p.dtype).clone()
        offset += n
