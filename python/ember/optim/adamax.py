"""Adamax (Kingma & Ba, 2015): Adam with the infinity norm in place of the second moment, with
L2 weight decay and maximize, as PyTorch 2.x computes it."""
from __future__ import annotations

import numpy as np

from ._numpy_update import check_betas, check_nonnegative, lazy_state, lerp_, param_and_grad
from .optimizer import Optimizer, _check_unsupported, _increment


class Adamax(Optimizer):
    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        _check_unsupported("Adamax", capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        beta1, beta2 = group["betas"]
        for p in params:
            st = lazy_state(self.state, p, "exp_avg", "exp_inf")
            step = _increment(st["step"])
            param, grad = param_and_grad(p, group)
            exp_avg, exp_inf = st["exp_avg"]._array, st["exp_inf"]._array
            lerp_(exp_avg, grad, 1 - beta1)
            exp_inf *= beta2
            np.maximum(exp_inf, np.abs(grad) + group["eps"], out=exp_inf)
            step_size = group["lr"] / (1 - beta1 ** step)
            param += -step_size * exp_avg / exp_inf
