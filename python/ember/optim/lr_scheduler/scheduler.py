"""LRScheduler: the base of the epoch-driven schedulers, with PyTorch's semantics.

Each ``step()`` advances ``last_epoch`` and writes ``get_lr()`` (the chainable form, computed
from the groups' current lr) into the optimizer; ``step(epoch)`` is deprecated in PyTorch and
uses the closed form ``_get_closed_form_lr()`` where a scheduler has one. The constructor makes
the initial step (``last_epoch`` -1 -> 0). ``state_dict()`` holds plain Python values under
PyTorch's attribute names, so a checkpoint of either library loads into the other.
"""
from __future__ import annotations

import functools
import math
import numbers
import warnings
import weakref

from ..optimizer import Optimizer
from ._state_checks import check_scheduler_state

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available.")


class MissingInitialLR(KeyError, ValueError):
    """PyTorch's KeyError for a scheduler resumed (last_epoch given) on an optimizer whose groups
    have no 'initial_lr'; also a ValueError, the kind ember gives a bad argument."""


def check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def check_last_epoch(last_epoch) -> None:
    """last_epoch is an int, as PyTorch's schedulers count epochs (a float such as inf broke
    later with an OverflowError)."""
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral):
        raise TypeError(f"last_epoch must be an int, got last_epoch={last_epoch!r} of type "
                        f"{type(last_epoch).__name__}")


def check_period(scheduler: str, name: str, value) -> None:
    """A period the schedule divides by (StepLR's step_size, CosineAnnealingLR's T_max, ...) is
    a finite positive number; zero, NaN or inf broke step() with a ZeroDivisionError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{scheduler}: {name} must be a positive number, got {name}={value!r}")


def per_group(name: str, optimizer: Optimizer, value) -> list:
    """One value per parameter group: a list/tuple must have one per group, a scalar is repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. "
                             f"{name} has {len(value)} values, param_groups has {n}.")
        return list(value)
    return [value] * n


def group_values(optimizer: Optimizer, key: str) -> list:
    return [group[key] for group in optimizer.param_groups]


def set_momentum(group: dict, momentum: float, use_beta1: bool) -> None:
    """Cycling schedulers drive 'momentum' (SGD, RMSprop) or beta1 of 'betas' (Adam family)."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _track_optimizer_step(optimizer: Optimizer) -> None:
    """Wraps optimizer.step on the instance so that the scheduler can tell whether it has run
    (PyTorch warns when scheduler.step() comes first, since the first lr is then skipped)."""
    step = optimizer.step
    if getattr(step, "_wrapped_by_lr_sched", False):
        return
    opt_ref = weakref.ref(optimizer)
    func = step.__func__

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        opt = opt_ref()
        opt._opt_called = True
        return func(opt, *args, **kwargs)

    wrapper._wrapped_by_lr_sched = True
    optimizer.step = wrapper


class LRScheduler:
    """Base class: subclasses implement ``get_lr()`` (and optionally ``_get_closed_form_lr()``)."""

    _get_lr_called_within_step = False
    _is_initial = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        check_optimizer(optimizer)
        check_last_epoch(last_epoch)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise MissingInitialLR(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when "
                        "resuming scheduler with last_epoch >= 0 (load the optimizer's "
                        "state_dict first)")
        self.base_lrs = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        _track_optimizer_step(optimizer)
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def _warn_if_called_outside_step(self) -> None:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use "
                          "`get_last_lr()`.", UserWarning, stacklevel=3)

    def get_last_lr(self) -> list:
        """The learning rates the last step() wrote, one per parameter group."""
        return self._last_lr

    def step(self, epoch=None) -> None:
        if self._step_count == 1:
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn("Seems like `optimizer.step()` has been overridden after learning "
                              "rate scheduler initialization. Please, make sure to call "
                              "`optimizer.step()` before `lr_scheduler.step()`.",
                              UserWarning, stacklevel=2)
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                              "You should call them in the opposite order: `optimizer.step()` "
                              "before `lr_scheduler.step()`. Failure to do this will result in "
                              "skipping the first value of the learning rate schedule.",
                              UserWarning, stacklevel=2)
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None) -> None:
        self._get_lr_called_within_step = True
        try:
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        self._write_lrs(values)

    def _write_lrs(self, values: list) -> None:
        groups = self.optimizer.param_groups
        if len(values) != len(groups):
            raise ValueError(f"{type(self).__name__}: {len(values)} learning rates for "
                             f"{len(groups)} parameter groups")
        for group, lr in zip(groups, values):
            group["lr"] = lr
        self._last_lr = group_values(self.optimizer, "lr")

    def state_dict(self) -> dict:
        """Every attribute except the optimizer (PyTorch's layout)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        check_scheduler_state(self, state_dict)
        self.__dict__.update(state_dict)


# PyTorch's pre-2.0 name, still used by older scripts and subclasses.
_LRScheduler = LRScheduler
