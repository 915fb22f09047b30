"""ASGD (Polyak & Juditsky, 1992): SGD with a decaying step eta and a running average 'ax' of
the iterates (started after t0 steps), as PyTorch 2.x computes it."""
from __future__ import annotations

import numpy as np

from ._numpy_update import check_nonnegative, lazy_state, param_and_grad, set_scalar_state
from .optimizer import Optimizer, _check_unsupported, _increment


class ASGD(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False):
        check_nonnegative(lr=lr, weight_decay=weight_decay)
        _check_unsupported("ASGD", capturable, differentiable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _step_group(self, group, params):
        lr, lambd = group["lr"], group["lambd"]
        for p in params:
            st = lazy_state(self.state, p, "ax", eta=lr, mu=1.0)
            step = _increment(st["step"])
            param, grad = param_and_grad(p, group)
            eta = float(st["eta"]._array)
            param *= 1 - lambd * eta
            param += -eta * grad
            mu, ax = float(st["mu"]._array), st["ax"]._array
            if mu != 1:
                ax += (param - ax) * mu
            else:
                ax[...] = param
            # PyTorch makes the new values float32 tensors, then copies them into the state
            # (float64 once a state_dict has been loaded): they keep float32 precision.
            set_scalar_state(st["eta"], np.float32(lr / (1 + lambd * lr * step) ** group["alpha"]))
            set_scalar_state(st["mu"], np.float32(1 / max(1, step - group["t0"])))
