"""Keras' Nadam: Adam with Nesterov momentum and Keras' momentum schedule
``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` (PyTorch's NAdam uses 0.96**(0.004*t))."""
from __future__ import annotations

import numpy as np

from .numpy_update import NumpyUpdate
from .optimizer import Optimizer, _check_number


class _NadamUpdate(NumpyUpdate):
    SLOTS = {"momentum": None, "velocity": None}

    def __init__(self, params, **hyper):
        super().__init__(params, **hyper)
        self._u_products = [1.0]  # prod(u_1..u_t) at index t: Keras' running `_u_product`

    def _u(self, beta_1, t):
        return beta_1 * (1.0 - 0.5 * 0.96 ** t)

    def _u_product(self, beta_1, t):
        while len(self._u_products) <= t:
            self._u_products.append(self._u_products[-1] * self._u(beta_1, len(self._u_products)))
        return self._u_products[t]

    def update(self, param, grad, slots, group, step):
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        u_t, u_next = self._u(beta_1, step), self._u(beta_1, step + 1)
        u_product = self._u_product(beta_1, step)
        m, v = slots["momentum"], slots["velocity"]
        m += (grad - m) * (1 - beta_1)
        v += (grad * grad - v) * (1 - beta_2)
        m_hat = m * u_next / (1 - u_product * u_next) + grad * (1 - u_t) / (1 - u_product)
        v_hat = v / (1 - beta_2 ** step)
        param -= m_hat * group["lr"] / (np.sqrt(v_hat) + group["epsilon"])


class Nadam(Optimizer):
    """Keras' Nadam update (see the module docstring), with Adam's bias-corrected velocity."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        # kwargs: the base optimizer's (weight_decay, clipnorm, clipvalue, ...).
        super().__init__(learning_rate, name=name, **kwargs)
        self.beta_1 = _check_number("Nadam", "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number("Nadam", "beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number("Nadam", "epsilon", epsilon, low=0.0)

    def _make_inner(self, params):
        return _NadamUpdate(params, lr=self.learning_rate, beta_1=self.beta_1,
                            beta_2=self.beta_2, epsilon=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
