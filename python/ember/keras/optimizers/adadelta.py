"""Keras' Adadelta, which is PyTorch's formula exactly:
``acc_g = rho*acc_g + (1-rho)*g^2; d = -sqrt(acc_d + eps)/sqrt(acc_g + eps)*g;
acc_d = rho*acc_d + (1-rho)*d^2; p += lr*d``."""
from __future__ import annotations

import ember
from .optimizer import Optimizer, _check_number


class Adadelta(Optimizer):
    """Keras' defaults (lr 0.001, rho 0.95, epsilon 1e-7) over ember.optim.Adadelta."""

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        # kwargs: the base optimizer's (weight_decay, clipnorm, clipvalue, ...).
        super().__init__(learning_rate, name=name, **kwargs)
        self.rho = _check_number("Adadelta", "rho", rho, 0.0, 1.0)
        self.epsilon = _check_number("Adadelta", "epsilon", epsilon, low=0.0)

    def _make_inner(self, params):
        return ember.optim.Adadelta(params, lr=self.learning_rate, rho=self.rho,
                                    eps=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
