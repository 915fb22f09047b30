"""Adam (and, with decoupled_weight_decay=True, AdamW), with amsgrad and maximize (PyTorch 2.x)."""
from __future__ import annotations

from .. import _core
from .optimizer import (Optimizer, _check_unsupported, _increment, _new_state, _new_step,
                        _run_kernel)


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused=None, decoupled_weight_decay: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_unsupported(type(self).__name__, capturable, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        state = self.state
        # Parameters are normally all at the same step; the kernel takes one bias correction.
        by_step = {}
        for p in params:
            st = state[p]
            if not st:
                st["step"] = _new_step()
                st["exp_avg"] = _new_state(p)
                st["exp_avg_sq"] = _new_state(p)
                if amsgrad:
                    st["max_exp_avg_sq"] = _new_state(p)
            step = _increment(st["step"])
            lists = by_step.get(step)
            if lists is None:
                lists = by_step[step] = ([], [], [], [])
            lists[0].append(p)
            lists[1].append(st["exp_avg"])
            lists[2].append(st["exp_avg_sq"])
            lists[3].append(st["max_exp_avg_sq"] if amsgrad else None)
        for step, (ps, m1, m2, vmax) in by_step.items():
            _run_kernel(_core.adam_step, [ps, m1, m2, vmax], ps, group["lr"], beta1, beta2,
                        group["eps"], group["weight_decay"], group["decoupled_weight_decay"],
                        amsgrad, group["maximize"], 1 - beta1**step, 1 - beta2**step)
