"""Keras' RMSprop update in NumPy, for RMSprop with momentum under a varying learning rate:
Keras' momentum accumulates ``lr * g / sqrt(...)`` with each step's own lr, which PyTorch's
buffer (``g / sqrt(...)``, scaled by the current lr) cannot hold when the lr changes."""
from __future__ import annotations

import numpy as np

from .numpy_update import NumpyUpdate


class RMSpropUpdate(NumpyUpdate):
    def __init__(self, params, **hyper):
        super().__init__(params, **hyper)
        self.SLOTS = {"velocity": None, "momentum": None}
        if hyper["centered"]:
            self.SLOTS["average_gradient"] = None

    def update(self, param, grad, slots, group, step):
        rho = group["rho"]
        velocity = slots["velocity"]
        velocity *= rho
        velocity += (1 - rho) * grad * grad
        denominator = velocity + group["epsilon"]
        if group["centered"]:
            average = slots["average_gradient"]
            average *= rho
            average += (1 - rho) * grad
            denominator = denominator - average * average
        momentum = slots["momentum"]
        momentum *= group["momentum"]
        momentum += grad * group["lr"] / np.sqrt(denominator)
        param -= momentum
