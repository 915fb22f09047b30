"""ASGD (Polyak & Juditsky, 1992): SGD with a decaying step eta and a running average 'ax' of
the iterates (started after t0 steps), as PyTorch 2.x computes it."""
from __future__ import annotations

import numbers

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
            # The next step size first: a refusal leaves the parameter and its state unchanged.
            new_eta = _next_eta(lr, lambd, group["alpha"], st["step"]._array.item() + 1)
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
            set_scalar_state(st["eta"], new_eta)
            set_scalar_state(st["mu"], np.float32(1 / max(1, step - group["t0"])))


def _next_eta(lr, lambd, alpha, step) -> np.float32:
    """PyTorch's ``lr / (1 + lambd * lr * step) ** alpha``, in Python floats as PyTorch computes
    it; where that overflows, divides by zero or turns complex (a huge ``alpha``, a negative
    ``lambd``), a ValueError naming the values instead of Python's OverflowError."""
    try:
        eta = lr / (1 + lambd * lr * step) ** alpha
    except (OverflowError, ZeroDivisionError):
        eta = None
    if not isinstance(eta, numbers.Real):
        raise ValueError(f"ASGD: the step size lr / (1 + lambd * lr * step) ** alpha has no "
                         f"float value at step {int(step)} (lr={lr!r}, lambd={lambd!r}, "
                         f"alpha={alpha!r})")
    return np.float32(eta)
