"""NAdam (Dozat, 2016): Adam with Nesterov momentum and the momentum-decay schedule
mu_t = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay)); L2 or decoupled weight decay and
maximize, as PyTorch 2.x computes it (mu_product kept in float32, as PyTorch keeps it)."""
from __future__ import annotations

import numpy as np

from ._numpy_update import (adam_moments_, check_betas, check_nonnegative, lazy_state,
                            param_and_grad, set_scalar_state)
from .optimizer import Optimizer, _check_unsupported, _increment


class NAdam(Optimizer):
    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        _check_unsupported("NAdam", capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["momentum_decay"]
        for p in params:
            st = lazy_state(self.state, p, "exp_avg", "exp_avg_sq", mu_product=1.0)
            step = _increment(st["step"])
            param, grad = param_and_grad(p, group)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
            product = st["mu_product"]._array  # float32, or the parameter's dtype once loaded
            mu_product = product * product.dtype.type(mu)
            set_scalar_state(st["mu_product"], mu_product)
            mu_product = float(mu_product)
            exp_avg, exp_avg_sq = st["exp_avg"]._array, st["exp_avg_sq"]._array
            adam_moments_(exp_avg, exp_avg_sq, grad, beta1, beta2)
            denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step)) + group["eps"]
            # Nesterov: this step's gradient and the next step's momentum, each bias-corrected.
            param += -lr * (1.0 - mu) / (1.0 - mu_product) * grad / denom
            param += -lr * mu_next / (1.0 - mu_product * mu_next) * exp_avg / denom
