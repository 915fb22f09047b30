"""RAdam (Liu et al., 2019): Adam whose adaptive step is rectified by the variance of the
second-moment estimate (plain momentum SGD while rho_t <= 5); L2 or decoupled weight decay and
maximize, as PyTorch 2.x computes it."""
from __future__ import annotations

import numpy as np

from ._numpy_update import (adam_moments_, check_betas, check_nonnegative, lazy_state,
                            param_and_grad)
from .optimizer import Optimizer, _check_unsupported, _increment


class RAdam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        _check_unsupported("RAdam", capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        lr, (beta1, beta2) = group["lr"], group["betas"]
        rho_inf = 2 / (1 - beta2) - 1
        for p in params:
            st = lazy_state(self.state, p, "exp_avg", "exp_avg_sq")
            step = _increment(st["step"])
            param, grad = param_and_grad(p, group)
            exp_avg, exp_avg_sq = st["exp_avg"]._array, st["exp_avg_sq"]._array
            adam_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2)
            bias_correction2 = 1 - beta2 ** step
            corrected_exp_avg = exp_avg / (1 - beta1 ** step)
            # rho_t: the length of the approximated simple moving average.
            rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
            if rho_t > 5.0:
                rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                        / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                adaptive = bias_correction2 ** 0.5 / (np.sqrt(exp_avg_sq) + group["eps"])
                param -= corrected_exp_avg * lr * adaptive * rect
            else:
                param -= corrected_exp_avg * lr
