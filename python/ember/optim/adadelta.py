"""Adadelta (Zeiler, 2012): steps scaled by the ratio of running RMS of updates and gradients,
with L2 weight decay and maximize, as PyTorch 2.x computes it."""
from __future__ import annotations

import numpy as np

from ._numpy_update import check_nonnegative, lazy_state, param_and_grad
from .optimizer import Optimizer, _check_unsupported, _increment


class Adadelta(Optimizer):
    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        _check_unsupported("Adadelta", capturable, differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for p in params:
            st = lazy_state(self.state, p, "square_avg", "acc_delta")
            _increment(st["step"])
            param, grad = param_and_grad(p, group)
            square_avg, acc_delta = st["square_avg"]._array, st["acc_delta"]._array
            square_avg *= rho
            square_avg += (1 - rho) * grad * grad
            delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * grad
            acc_delta *= rho
            acc_delta += (1 - rho) * delta * delta
            param += -lr * delta
