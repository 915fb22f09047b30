"""A compiled model's optimizer state as Keras 3 stores it in ``optimizer/vars``: ``iterations``,
``learning_rate`` (absent under a schedule), then the optimizer's slots for each trainable
variable in Keras' order.

ember's optimizers keep PyTorch-semantics state (see optimizers/optimizer.py); the slots map
exactly for Adam and AdamW (``m``, ``v`` per variable, then the ``v_hat`` of amsgrad) and SGD
(Keras' momentum ``m`` is ``-lr * momentum_buffer``). Other optimizers' slots are not mapped:
saving warns that their state is left out, as loading such a state does.
"""
from __future__ import annotations

import warnings

import numpy as np

import ember
from .optimizers import schedules


def _kind(opt) -> str | None:
    name = type(opt).__name__
    return name if name in ("Adam", "AdamW", "SGD") else None


def trainable_slots(model, layout):
    """[(owner, attr, Parameter)] of the trainable weights, in the order of the model's
    trainable weights (Keras' optimizer order; the file walk visits a layer's sublayers by
    attribute name, which for MultiHeadAttention is another order)."""
    order = {id(p): i for i, p in enumerate(model.trainable_weights)}
    slots = [(owner, attr, p) for _, owner, attr, p in layout.slots if p.requires_grad]
    return sorted(slots, key=lambda slot: order.get(id(slot[2]), len(order)))


def _has_lr_variable(opt) -> bool:
    return not isinstance(opt._learning_rate, schedules.LearningRateSchedule) \
        and not callable(opt._learning_rate)


def _slot_names(opt) -> list:
    kind = _kind(opt)
    if kind in ("Adam", "AdamW"):
        return ["exp_avg", "exp_avg_sq"]
    if kind == "SGD":
        return ["momentum_buffer"] if opt.momentum != 0 else []
    return None


def to_keras(model, layout) -> list | None:
    """The arrays of ``optimizer/vars`` in order, or None (with a warning) when ember cannot
    map this optimizer's state."""
    opt = model.optimizer
    names = _slot_names(opt)
    if names is None:
        warnings.warn(f"save: ember does not store the state of the {type(opt).__name__} "
                      "optimizer in Keras' format; the file has its configuration only, so "
                      "training resumes with fresh optimizer slots", stacklevel=4)
        return None
    out = [np.array(opt.iterations, dtype=np.int64)]
    if _has_lr_variable(opt):
        out.append(np.array(opt.learning_rate, dtype=np.float32))
    slots = trainable_slots(model, layout)
    state = opt._inner.state if opt.built else {}
    group_lr = opt._inner.param_groups[0]["lr"] if opt.built else opt.learning_rate

    def value(owner, attr, p, name):
        arr = state.get(p, {}).get(name) if p in state else None
        arr = np.zeros(p.shape, np.float32) if arr is None else arr.detach().numpy()
        if name == "momentum_buffer":
            arr = -group_lr * arr
        return np.asarray(owner._to_keras_layout(attr, arr), dtype=np.float32)

    for owner, attr, p in slots:
        out += [value(owner, attr, p, name) for name in names]
    if _kind(opt) in ("Adam", "AdamW") and opt.amsgrad:
        out += [value(owner, attr, p, "max_exp_avg_sq") for owner, attr, p in slots]
    return out


def expected_shapes(model, layout) -> list | None:
    """The shapes ``optimizer/vars`` must have for this compiled model (None: not mapped)."""
    opt = model.optimizer
    names = _slot_names(opt)
    if names is None:
        return None
    shapes = [()] + ([()] if _has_lr_variable(opt) else [])
    slots = trainable_slots(model, layout)
    for owner, attr, p in slots:
        shapes += [owner._keras_shape(attr, p)] * len(names)
    if _kind(opt) in ("Adam", "AdamW") and opt.amsgrad:
        shapes += [owner._keras_shape(attr, p) for owner, attr, p in slots]
    return shapes


def from_keras(model, layout, arrays: list):
    """Builds the model's optimizer and sets its state from ``arrays`` (checked against
    expected_shapes by the caller)."""
    opt = model.optimizer
    names = _slot_names(opt)
    opt.build(list(model.parameters()))
    iterations = int(arrays[0])
    if iterations < 0:
        raise ValueError("the optimizer's iteration count is negative")
    rest = arrays[2:] if _has_lr_variable(opt) else arrays[1:]
    slots = trainable_slots(model, layout)
    group_lr = opt._inner.param_groups[0]["lr"]
    amsgrad = _kind(opt) in ("Adam", "AdamW") and opt.amsgrad
    for i, (owner, attr, p) in enumerate(slots):
        entry = {}
        for j, name in enumerate(names):
            arr = np.asarray(owner._from_keras_layout(attr, rest[i * len(names) + j]),
                             dtype=p.dtype.numpy)
            if name == "momentum_buffer":
                if group_lr == 0:
                    raise ValueError("SGD with learning_rate 0 cannot take a saved momentum")
                arr = -arr / group_lr
            entry[name] = ember.from_numpy(np.array(arr, order="C"))
        if amsgrad:
            arr = owner._from_keras_layout(attr, rest[len(slots) * len(names) + i])
            entry["max_exp_avg_sq"] = ember.from_numpy(np.array(arr, dtype=p.dtype.numpy,
                                                                order="C"))
        if names and names[0] == "exp_avg":
            entry["step"] = ember.from_numpy(np.array(float(iterations), dtype=np.float32))
        if entry and (iterations > 0 or names != ["momentum_buffer"]):
            opt._inner.state[p] = entry
    opt.iterations = iterations
