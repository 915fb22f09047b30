"""Adagrad with learning-rate decay, L2 weight decay and maximize (PyTorch 2.x)."""
from __future__ import annotations

from collections import defaultdict

from .. import _core
from .optimizer import (Optimizer, _check_unsupported, _increment, _new_state, _new_step,
                        _run_kernel)


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError("Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_unsupported("Adagrad", differentiable=differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # Like PyTorch, Adagrad creates its state at construction.
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _new_step()
                state["sum"] = _new_state(p, group["initial_accumulator_value"])

    def _step_group(self, group, params):
        state = self.state
        by_step = defaultdict(lambda: ([], []))
        for p in params:
            st = state[p]
            if not st:  # a parameter added by add_param_group after construction
                st["step"] = _new_step()
                st["sum"] = _new_state(p, group["initial_accumulator_value"])
            ps, sums = by_step[_increment(st["step"])]
            ps.append(p)
            sums.append(st["sum"])
        for step, (ps, sums) in by_step.items():
            clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
            _run_kernel(_core.adagrad_step, [ps, sums], ps, clr, group["weight_decay"],
                        group["eps"], group["maximize"])
