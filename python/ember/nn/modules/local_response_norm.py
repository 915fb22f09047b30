"""LocalResponseNorm: normalization across neighbouring channels (AlexNet's), PyTorch's
arguments and repr."""
from __future__ import annotations

from .. import functional as F
from ..module import Module
from .normalization import _check_float
from .utils import _check_int


class LocalResponseNorm(Module):
    """x / (k + alpha / size * sum of x^2 over `size` neighbouring channels)^beta."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size = _check_int("LocalResponseNorm", "size", size, minimum=1)
        for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
            _check_float("LocalResponseNorm", name, value, float("-inf"), float("inf"))
        self.alpha = alpha
        self.beta = beta
        self.k = k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
