"""SGD with momentum, dampening, Nesterov momentum, L2 weight decay and maximize (PyTorch 2.x)."""
from __future__ import annotations

from .. import _core
from .optimizer import Optimizer, _check_unsupported, _new_state, _run_kernel


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_unsupported("SGD", differentiable=differentiable)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        momentum = group["momentum"]
        args = (group["lr"], momentum, group["dampening"], group["weight_decay"],
                group["nesterov"], group["maximize"])
        if momentum == 0:
            _run_kernel(_core.sgd_step, [params, [None] * len(params)], params, False, *args)
            return
        # A parameter without a buffer yet starts it from its gradient (init_buffers=True),
        # so those go in a second call.
        known, bufs, fresh = [], [], []
        state = self.state
        for p in params:
            buf = state[p].get("momentum_buffer")
            if buf is None:
                fresh.append(p)
            else:
                known.append(p)
                bufs.append(buf)
        if known:
            _run_kernel(_core.sgd_step, [known, bufs], known, False, *args)
        if fresh:
            new_bufs = []
            for p in fresh:
                state[p]["momentum_buffer"] = buf = _new_state(p)
                new_bufs.append(buf)
            _run_kernel(_core.sgd_step, [fresh, new_bufs], fresh, True, *args)
