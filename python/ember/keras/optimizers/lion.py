"""Keras' Lion (Chen et al., 2023): the sign of an interpolated momentum as the step."""
from __future__ import annotations

import numpy as np

from .numpy_update import NumpyUpdate
from .optimizer import Optimizer, _check_number


class _LionUpdate(NumpyUpdate):
    SLOTS = {"momentum": None}

    def update(self, param, grad, slots, group, step):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        m = slots["momentum"]
        param -= group["lr"] * np.sign(m * beta_1 + grad * (1.0 - beta_1))
        m *= beta_2
        m += grad * (1.0 - beta_2)


class Lion(Optimizer):
    """``p -= lr * sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g``."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        # kwargs: the base optimizer's (weight_decay, clipnorm, clipvalue, ...).
        super().__init__(learning_rate, name=name, **kwargs)
        if isinstance(beta_1, bool) or not isinstance(beta_1, (int, float)) \
                or not 0 < beta_1 <= 1:
            raise ValueError("Lion: argument `beta_1` must be in the [0, 1] range. Otherwise, "
                             f"the optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1 = float(beta_1)
        self.beta_2 = _check_number("Lion", "beta_2", beta_2, 0.0, 1.0)

    def _make_inner(self, params):
        return _LionUpdate(params, lr=self.learning_rate, beta_1=self.beta_1,
                           beta_2=self.beta_2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
