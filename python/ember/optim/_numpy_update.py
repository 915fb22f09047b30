"""Shared pieces of the optimizers whose updates are written in NumPy (no fused kernel):
PyTorch's argument checks and messages, the effective gradient, and in-place array helpers."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .optimizer import _make_kernel_ready, _new_state, _new_step

_LABELS = {"lr": "learning rate", "eps": "epsilon value", "weight_decay": "weight_decay value",
           "momentum_decay": "momentum_decay value"}


def check_nonnegative(**values) -> None:
    """Raises PyTorch's ValueError ("Invalid learning rate: -1") for the first negative value."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_LABELS[name]}: {value}")


def check_betas(betas) -> None:
    for i, beta in enumerate(betas[:2]):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")


def param_array(p: Tensor) -> np.ndarray:
    """The parameter's array, made writeable (and C-contiguous) so that it updates in place."""
    _make_kernel_ready([p])
    return p._array


def effective_grad(p: Tensor, param: np.ndarray, maximize: bool, weight_decay: float,
                   ) -> np.ndarray:
    """The gradient the update follows: negated to maximize, plus L2 weight decay."""
    grad = p.grad._array
    if maximize:
        grad = -grad
    if weight_decay != 0:
        grad = grad + weight_decay * param
    return grad


def param_and_grad(p: Tensor, group: dict) -> tuple:
    """The parameter's array and the gradient to follow, for the Adam family's options:
    decoupled weight decay shrinks the parameter first (AdamW-style), else it is L2 decay."""
    param = param_array(p)
    weight_decay = group["weight_decay"]
    if weight_decay != 0 and group.get("decoupled_weight_decay", False):
        param *= 1 - group["lr"] * weight_decay
        weight_decay = 0
    return param, effective_grad(p, param, group["maximize"], weight_decay)


def lazy_state(state: dict, p: Tensor, *zeros: str, **scalars: float) -> dict:
    """state[p], made on the parameter's first step: 'step', the 0-d float32 scalars, then
    the zero tensors shaped like p (PyTorch's order of keys)."""
    st = state[p]
    if not st:
        st["step"] = _new_step()
        for name, value in scalars.items():
            st[name] = scalar_state(value)
        for name in zeros:
            st[name] = _new_state(p)
    return st


def adam_moments_(exp_avg: np.ndarray, exp_avg_sq: np.ndarray, grad: np.ndarray,
                  beta1: float, beta2: float) -> None:
    """Adam's running first and second moments, updated in place."""
    lerp_(exp_avg, grad, 1 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start += weight * (end - start) in place, in the form PyTorch's lerp uses for |w| >= 0.5
    (so that weights near 1 round the same way)."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


def scalar_state(value: float, dtype=np.float32) -> Tensor:
    """A 0-d state tensor (PyTorch keeps step, mu_product, eta and mu as float32 tensors)."""
    return Tensor._from_op(np.asarray(value, dtype=dtype), None)


def set_scalar_state(t: Tensor, value: float) -> None:
    t._array = np.asarray(value, dtype=t._array.dtype)
