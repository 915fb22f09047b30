"""ember.optim.swa_utils: weight averaging as PyTorch's torch.optim.swa_utils has it.

AveragedModel keeps a copy of a model whose parameters are a running average of the model's:
an equal-weight average (stochastic weight averaging, the default) or an exponential moving
average (``multi_avg_fn=get_ema_multi_avg_fn(decay)``). SWALR anneals each group's lr to its
``swa_lr``; update_bn recomputes BatchNorm statistics for the averaged weights.
"""
from __future__ import annotations

import copy
import itertools
import math
import numbers

import numpy as np

from ..autograd import no_grad
from ..nn.module import Module
from ..nn.modules.normalization import _BatchNorm
from ..tensor import Tensor
from ._numpy_update import lerp_
from .lr_scheduler.scheduler import LRScheduler, per_group

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay) -> None:
    if not isinstance(decay, numbers.Real) or not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] "
                         "range.")


def _is_floating(tensor: Tensor) -> bool:
    return np.issubdtype(tensor._array.dtype, np.floating)


def get_ema_multi_avg_fn(decay=0.999):
    """An exponential moving average over lists: ema = decay * ema + (1 - decay) * current."""
    _check_decay(decay)

    def ema_update(ema_param_list, current_param_list, _num_averaged):
        floating = _is_floating(ema_param_list[0])  # one dtype per call, as AveragedModel groups
        for ema, current in zip(ema_param_list, current_param_list, strict=True):
            if floating:
                lerp_(ema._array, current._array, 1 - decay)
            else:  # integer buffers: computed in floating point, truncated back
                ema._array[...] = ema._array * decay + current._array * (1 - decay)
    return ema_update


def get_swa_multi_avg_fn():
    """The equal-weight running average over lists: avg += (current - avg) / (n + 1)."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = int(num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged)
        floating = _is_floating(averaged_param_list[0])
        for averaged, current in zip(averaged_param_list, current_param_list, strict=True):
            if floating:
                lerp_(averaged._array, current._array, 1 / (n + 1))
            else:
                averaged._array[...] = averaged._array + (current._array - averaged._array) / (n + 1)
    return swa_update


def get_ema_avg_fn(decay=0.999):
    """The exponential moving average of one tensor, returned (not in place)."""
    _check_decay(decay)

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param
    return ema_update


def get_swa_avg_fn():
    """The equal-weight running average of one tensor, returned (not in place)."""
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)
    return swa_update


def _grouped_by_dtype(averaged: list, current: list):
    """(averaged, current) lists per dtype, in order of first appearance, as PyTorch hands them
    to a multi_avg_fn."""
    groups: dict = {}
    for a, c in zip(averaged, current):
        pair = groups.setdefault(a._array.dtype, ([], []))
        pair[0].append(a)
        pair[1].append(c)
    return list(groups.values())


class AveragedModel(Module):
    """A deep copy of ``model`` whose parameters ``update_parameters(model)`` averages with the
    model's. The first update copies them; later ones apply ``multi_avg_fn`` (to all tensors
    at once) or ``avg_fn`` (to each), by default the equal-weight average. With
    ``use_buffers=True`` buffers are averaged too; otherwise they are copied from the model
    at each update, so that BatchNorm statistics follow it."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be an nn.Module, got "
                            f"{type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", Tensor._from_op(np.array(0, dtype=np.int64), None))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged_and_model_tensors(self, model):
        if self.use_buffers:
            return (list(itertools.chain(self.module.parameters(), self.module.buffers())),
                    list(itertools.chain(model.parameters(), model.buffers())))
        return list(self.module.parameters()), list(model.parameters())

    def update_parameters(self, model) -> None:
        averaged, current = self._averaged_and_model_tensors(model)
        if len(averaged) != len(current):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(current)} "
                             f"tensors to average, the averaged copy {len(averaged)}")
        for a, c in zip(averaged, current):
            if a.shape != c.shape:
                raise ValueError(f"AveragedModel.update_parameters: shape {tuple(c.shape)} of "
                                 f"the model does not match {tuple(a.shape)} of the average")
        averaged = [a.detach() for a in averaged]
        current = [c.detach() for c in current]
        n = int(self.n_averaged._array)
        with no_grad():
            if n == 0:
                for a, c in zip(averaged, current):
                    a._array[...] = c._array
            elif self.multi_avg_fn is not None:
                for group_averaged, group_current in _grouped_by_dtype(averaged, current):
                    self.multi_avg_fn(group_averaged, group_current, self.n_averaged)
            else:  # PyTorch on the CPU: the equal-weight average, tensor by tensor
                avg_fn = self.avg_fn or get_swa_avg_fn()
                for a, c in zip(averaged, current):
                    result = avg_fn(a, c, self.n_averaged)
                    a._array[...] = result._array if isinstance(result, Tensor) else result
            if not self.use_buffers:  # buffers follow the model
                for b_avg, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                    b_avg._array[...] = b_model._array
        self.n_averaged._array[...] = n + 1


def update_bn(loader, model, device=None) -> None:
    """Recomputes the running statistics of every BatchNorm layer of ``model`` with one pass
    over ``loader`` (a cumulative average over its batches; the first element of a list or
    tuple batch is the input), then restores the layers' momentum and the training mode."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        with no_grad():
            for batch in loader:
                if isinstance(batch, (list, tuple)):
                    batch = batch[0]
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each group's lr from its current value to ``swa_lr`` over ``anneal_epochs``
    steps ("cos" or "linear"), then keeps it there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        swa_lrs = per_group("swa_lr", optimizer, swa_lr)
        for value, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) \
                or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t: float) -> float:
        return t if self._anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        self._warn_if_called_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self._anneal(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        alpha = self._anneal(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]
