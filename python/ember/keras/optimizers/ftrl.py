"""Keras' FTRL-Proximal (McMahan et al., 2013), with its L1, L2 and L2-shrinkage
regularization and the ``beta`` term that adds ``beta / (2*lr)`` to the L2 strength."""
from __future__ import annotations

import numpy as np

from .numpy_update import NumpyUpdate
from .optimizer import Optimizer, _check_number


class _FtrlUpdate(NumpyUpdate):
    SLOTS = {"accumulator": "initial_accumulator_value", "linear": None}

    def update(self, param, grad, slots, group, step):
        lr, power = group["lr"], group["learning_rate_power"]
        if not lr > 0:
            raise ValueError(f"Ftrl: the learning rate must be > 0 (Ftrl divides by it). "
                             f"Received: learning_rate={lr}")
        l1 = group["l1_regularization_strength"]
        l2 = group["l2_regularization_strength"] + group["beta"] / (2.0 * lr)
        accum, linear = slots["accumulator"], slots["linear"]
        grad_to_use = grad + 2 * group["l2_shrinkage_regularization_strength"] * param
        new_accum = accum + grad * grad
        linear += grad_to_use - (new_accum ** -power - accum ** -power) / lr * param
        quadratic = new_accum ** -power / lr + 2 * l2
        param[...] = (np.clip(linear, -l1, l1) - linear) / quadratic
        accum[...] = new_accum


class Ftrl(Optimizer):
    """Keras' Ftrl update (``learning_rate_power`` <= 0; the strengths are >= 0)."""

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name=None, **kwargs):
        # kwargs: the base optimizer's (weight_decay, clipnorm, clipvalue, ...).
        super().__init__(learning_rate, name=name, **kwargs)
        self.learning_rate_power = _check_number("Ftrl", "learning_rate_power",
                                                 learning_rate_power, high=0.0)
        self.initial_accumulator_value = _check_number(
            "Ftrl", "initial_accumulator_value", initial_accumulator_value, low=0.0)
        self.l1_regularization_strength = _check_number(
            "Ftrl", "l1_regularization_strength", l1_regularization_strength, low=0.0)
        self.l2_regularization_strength = _check_number(
            "Ftrl", "l2_regularization_strength", l2_regularization_strength, low=0.0)
        self.l2_shrinkage_regularization_strength = _check_number(
            "Ftrl", "l2_shrinkage_regularization_strength",
            l2_shrinkage_regularization_strength, low=0.0)
        self.beta = _check_number("Ftrl", "beta", beta)

    def _hyper(self):
        return {name: getattr(self, name) for name in (
            "learning_rate_power", "initial_accumulator_value", "l1_regularization_strength",
            "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta")}

    def _make_inner(self, params):
        return _FtrlUpdate(params, lr=self.learning_rate, **self._hyper())

    def get_config(self):
        return {**super().get_config(), **self._hyper()}
