"""The "Optimizer params" of Model.summary(): the numbers Keras 3's optimizer holds once built
(its ``optimizer.variables``), which Keras also adds to "Total params".

Keras keeps the iteration count, the learning rate (a float32 variable, unless it is a
schedule or a function) and, for each variable trainable when the optimizer was built, the
slots each optimizer's ``build()`` makes (Nadam also one scalar). ember's optimizers keep
PyTorch-style state, so the count is Keras' rule applied to the same variables.
"""
from __future__ import annotations

import numpy as np

from .optimizers import schedules
from .optimizers.adadelta import Adadelta
from .optimizers.adamax import Adamax
from .optimizers.ftrl import Ftrl
from .optimizers.lion import Lion
from .optimizers.nadam import Nadam
from .optimizers.optimizer import SGD, Adagrad, Adam, RMSprop


def _slots_per_variable(opt):
    """(slot arrays per variable, extra scalars), or None for an optimizer Keras lacks."""
    if isinstance(opt, SGD):
        return (1 if opt.momentum != 0 else 0), 0
    if isinstance(opt, Adam):  # (and AdamW)
        return (3 if opt.amsgrad else 2), 0
    if isinstance(opt, RMSprop):
        return 1 + (opt.momentum > 0) + opt.centered, 0
    if isinstance(opt, (Adagrad, Lion)):
        return 1, 0
    if isinstance(opt, Nadam):
        return 2, 1  # momentums, velocities; u_product
    if isinstance(opt, (Adamax, Adadelta, Ftrl)):
        return 2, 0
    return None


def optimizer_params(model):
    """(count, bytes) of the built optimizer's variables, or None (not built, or an optimizer
    whose variables ember does not know)."""
    opt = model.optimizer
    if not getattr(model, "compiled", False) or opt is None or not opt.built:
        return None
    slots = _slots_per_variable(opt)
    if slots is None:
        return None
    per_variable, scalars = slots
    built_on = sum(int(np.prod(p.shape)) for p in opt._params if id(p) in opt._trainable_ids)
    learning_rate = opt._learning_rate
    has_lr_variable = not (isinstance(learning_rate, schedules.LearningRateSchedule)
                           or callable(learning_rate))
    floats = per_variable * built_on + scalars + has_lr_variable
    count = 1 + floats  # (the iteration count: an int32 in Keras' torch backend)
    return count, 4 * count
