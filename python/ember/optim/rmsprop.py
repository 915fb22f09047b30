"""RMSprop with momentum, centering, L2 weight decay and maximize (PyTorch 2.x)."""
from __future__ import annotations

from .. import _core
from .optimizer import (Optimizer, _check_unsupported, _increment, _new_state, _new_step,
                        _run_kernel)


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_unsupported("RMSprop", capturable, differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        momentum, centered = group["momentum"], group["centered"]
        state = self.state
        sq, bufs, gavg = [], [], []
        for p in params:
            st = state[p]
            if not st:
                st["step"] = _new_step()
                st["square_avg"] = _new_state(p)
                if momentum > 0:
                    st["momentum_buffer"] = _new_state(p)
                if centered:
                    st["grad_avg"] = _new_state(p)
            _increment(st["step"])
            sq.append(st["square_avg"])
            bufs.append(st["momentum_buffer"] if momentum > 0 else None)
            gavg.append(st["grad_avg"] if centered else None)
        _run_kernel(_core.rmsprop_step, [params, sq, bufs, gavg], params, group["lr"],
                    group["alpha"], group["eps"], group["weight_decay"], momentum, centered,
                    group["maximize"])
