"""Keras' Adamax: Adam with the infinity norm of the gradients in place of the second moment."""
from __future__ import annotations

import numpy as np

from .numpy_update import NumpyUpdate
from .optimizer import Optimizer, _check_number


class _AdamaxUpdate(NumpyUpdate):
    # Keras puts epsilon outside the max (PyTorch's Adamax puts it inside).
    SLOTS = {"momentum": None, "norm": None}

    def update(self, param, grad, slots, group, step):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        m, u = slots["momentum"], slots["norm"]
        m += (grad - m) * (1 - beta_1)
        np.maximum(u * beta_2, np.abs(grad), out=u)
        param -= m * group["lr"] / ((u + group["epsilon"]) * (1 - beta_1 ** step))


class Adamax(Optimizer):
    """``m = b1*m + (1-b1)*g; u = max(b2*u, |g|); p -= lr*m / ((1 - b1^t) * (u + epsilon))``."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        # kwargs: the base optimizer's (weight_decay, clipnorm, clipvalue, ...).
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = _check_number("Adamax", "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("Adamax", "beta_2", beta_2, 0.0, 1.0)
        self.epsilon = _check_number("Adamax", "epsilon", epsilon, low=0.0)

    def _make_inner(self, params):
        return _AdamaxUpdate(params, lr=self.learning_rate, beta_1=self.beta_1,
                             beta_2=self.beta_2, epsilon=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
