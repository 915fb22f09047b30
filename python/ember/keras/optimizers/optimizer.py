"""The base Keras optimizer and SGD, Adam, AdamW, RMSprop, Adagrad, with Keras' arguments,
defaults and update rules (the others are in their own files of this package).

Each wraps an inner ember.optim (PyTorch-semantics) optimizer, created when the model's
parameters are first known; ``learning_rate`` may be a number, a schedule (schedules.py) or a
function, the inner optimizer taking each step's value. Where Keras' formula differs from
PyTorch's it is mapped onto the PyTorch kernel exactly (up to float rounding), as each class
documents; where no mapping exists the inner optimizer is Keras' update in NumPy
(numpy_update.py):

* ``weight_decay`` is decoupled in Keras 3 for every optimizer (``p -= lr * wd * p`` before the
  update); ember applies it that way itself and gives the inner optimizer weight_decay=0.
* SGD: Keras' ``v = m*v - lr*g; p += v`` (and its Nesterov form) equals PyTorch's momentum SGD
  for a constant learning rate; with a varying one, PyTorch's SGD runs at lr=1 on ``lr*g``.
* Adam/AdamW: Keras adds epsilon to sqrt(v) *without* bias correction
  (``p -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)``); PyTorch's denominator is
  ``sqrt(v)/sqrt(1-b2^t) + eps``. Passing the inner Adam ``eps / sqrt(1-b2^t)`` at step t makes
  the two identical.
* Adagrad: Keras divides by ``sqrt(acc + eps)``; PyTorch by ``sqrt(acc) + eps``. Starting the
  PyTorch accumulator at ``initial_accumulator_value + epsilon`` with eps=0 makes them identical.
* RMSprop: Keras divides by ``sqrt(v + eps)`` (centered: ``sqrt(v - mean_g^2 + eps)``). ember
  keeps the running average as ``v + eps`` in the inner optimizer's ``square_avg`` state (adding
  ``(1-rho)*eps/rho`` before each step; starting it at ``eps/rho``) and runs it with eps=0,
  which is Keras' update exactly. With rho == 0 that shift is undefined, and ember then uses
  PyTorch's ``sqrt(v) + eps`` (documented difference). With momentum and a varying learning
  rate, the inner optimizer is Keras' update in NumPy (rmsprop_update.py).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

import ember
from .. import constraints
from . import schedules
from .rmsprop_update import RMSpropUpdate


def _check_number(cls, name, value, low=None, high=None, low_open=False, high_open=False):
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low}, "
        hi = "" if high is None else f"{high}" + (")" if high_open else "]")
        rng = f" in {lo}{hi}" if lo or hi else ""
        raise ValueError(f"{cls}: `{name}` must be a number{rng}. Received: {name}={value!r}")
    return float(value)


class Optimizer:
    """Base class: holds Keras hyper-parameters and the iteration count; subclasses create the
    inner ember.optim optimizer in ``_make_inner(params)`` and may adjust it per step in
    ``_before_step()``."""

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        cls = type(self).__name__
        if kwargs:
            raise TypeError(f"{cls}: unrecognized keyword arguments: {sorted(kwargs)}")
        self._learning_rate = _check_learning_rate(cls, learning_rate)
        self.weight_decay = (None if weight_decay is None else
                             _check_number(cls, "weight_decay", weight_decay, low=0.0))
        clips = [c for c in (clipnorm, clipvalue, global_clipnorm) if c is not None]
        if len(clips) > 1:
            raise ValueError(f"{cls}: only one of `clipnorm`, `clipvalue` and `global_clipnorm` "
                             f"can be set. Received: clipnorm={clipnorm}, clipvalue={clipvalue},"
                             f" global_clipnorm={global_clipnorm}")
        self.clipnorm = None if clipnorm is None else _check_number(cls, "clipnorm", clipnorm,
                                                                     low=0.0, low_open=True)
        self.clipvalue = None if clipvalue is None else _check_number(cls, "clipvalue",
                                                                       clipvalue, low=0.0,
                                                                       low_open=True)
        self.global_clipnorm = (None if global_clipnorm is None else
                                _check_number(cls, "global_clipnorm", global_clipnorm, low=0.0,
                                              low_open=True))
        if use_ema:
            raise NotImplementedError(f"{cls}: use_ema=True is not supported by ember")
        self.use_ema = False
        # Keras reads these only with use_ema=True; kept for the config.
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if loss_scale_factor is not None:
            raise NotImplementedError(f"{cls}: loss_scale_factor is not supported by ember")
        if gradient_accumulation_steps is not None:
            raise NotImplementedError(f"{cls}: gradient_accumulation_steps is not supported by "
                                      "ember")
        self.loss_scale_factor = None
        self.gradient_accumulation_steps = None
        self.name = name or _snake(cls)
        self.iterations = 0
        self._inner = None
        self._params = None

    # ---- Keras API ---------------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update (a schedule's value at ``iterations``)."""
        return _current_learning_rate(type(self).__name__, self._learning_rate,
                                      self.iterations)

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        cls = type(self).__name__
        if not callable(value) and isinstance(self._learning_rate,
                                              schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object "
                            "as its `learning_rate` constructor argument, hence its learning "
                            "rate is not settable. If you need the learning rate to be "
                            "settable, you should instantiate the optimizer with a float "
                            "`learning_rate` argument.")
        self._learning_rate = _check_learning_rate(cls, value)
        if self._inner is not None and not callable(self._learning_rate):
            for group in self._inner.param_groups:
                group["lr"] = self._learning_rate

    @property
    def _varying_learning_rate(self) -> bool:
        return callable(self._learning_rate)

    @property
    def built(self) -> bool:
        return self._inner is not None

    def build(self, var_list):
        self._params = list(var_list)
        self._param_ids = tuple(map(id, self._params))
        # Keras builds its slots for the variables trainable now; one frozen at build time
        # and unfrozen later is unknown to it (see _check_variables_are_known).
        self._trainable_ids = frozenset(id(p) for p in self._params if p.requires_grad)
        self._known_ids = frozenset(self._param_ids)
        self._inner = self._make_inner(self._params)

    def apply_gradients(self, grads_and_vars):
        """Keras API: applies (gradient, variable) pairs; gradients are ember Tensors or arrays."""
        pairs = list(grads_and_vars)
        for g, v in pairs:
            v.grad = g if isinstance(g, ember.Tensor) or g is None else ember.from_numpy(
                np.ascontiguousarray(g, dtype=v.dtype.numpy))
        self.step([v for _, v in pairs])

    def apply(self, grads, trainable_variables=None):
        """Keras 3 API: one update from ``grads``, in the order of ``trainable_variables``
        (by default the variables the optimizer was built with)."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError("When passing `grads` without `variables`, the optimizer "
                                 "must already be built on a list of variables. Call "
                                 "`optimizer.build(trainable_variables)` first.")
            trainable_variables = self._params
        grads, trainable_variables = list(grads), list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"{type(self).__name__}.apply: got {len(grads)} gradients for "
                             f"{len(trainable_variables)} variables")
        self.apply_gradients(zip(grads, trainable_variables))

    def step(self, params):
        """One update of ``params`` from their ``.grad`` (builds on first use). As in Keras,
        ``params`` may be some of the variables the optimizer was built with (a model's
        trainable weights after some were frozen); the others are left as they are."""
        if self._inner is None:
            self.build(params)
        self._check_variables_are_known(params)
        set_aside = self._set_aside_other_grads(params)
        try:
            self._clip_gradients()
            lr = self.learning_rate
            if self._varying_learning_rate:
                self._use_learning_rate(lr)
            if self.weight_decay:
                self._apply_weight_decay(lr)
            self._before_step()
            self._inner.step()
        finally:
            for p, grad in set_aside:
                p.grad = grad
        constraints.apply_constraints(params)  # Keras: after the update
        self.iterations += 1

    def zero_grad(self):
        if self._inner is not None:
            self._inner.zero_grad(set_to_none=True)

    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise NotImplementedError(f"{type(self).__name__}.get_config: a callable "
                                      "learning_rate cannot be serialized by ember")
        return {"name": self.name, "learning_rate": lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<keras.optimizers.{type(self).__name__} learning_rate={self.learning_rate}>"

    # ---- helpers -----------------------------------------------------------------------------
    def _check_variables_are_known(self, params):
        """Keras 3: a variable of another model, or one made trainable after the optimizer
        was built (``trainable = True`` after a fit), is an error until the model is compiled
        with a new optimizer."""
        for p in params:
            if id(p) not in self._known_ids or (p.requires_grad and id(p) not in self._trainable_ids):
                name = getattr(p, "path", None) or f"a parameter of shape {tuple(p.shape)}"
                raise ValueError(f"Unknown variable: {name}. This optimizer can only be called "
                                 "for the variables it was originally built with (the "
                                 "trainable ones when it was built). When working with a new "
                                 "set of variables, you should recreate a new optimizer "
                                 "instance (e.g. compile the model again).")

    def _set_aside_other_grads(self, params):
        """[(parameter, gradient)] of the built-with parameters not in ``params`` that hold a
        gradient, now cleared so this step leaves them alone (the caller puts them back)."""
        if tuple(map(id, params)) == self._param_ids:  # (the usual step: all of them)
            return []
        given = set(map(id, params))
        set_aside = [(p, p.grad) for p in self._params
                     if id(p) not in given and p.grad is not None]
        for p, _ in set_aside:
            p.grad = None
        return set_aside

    def _with_grads(self):
        return [p for p in self._params if p.grad is not None and p.requires_grad]

    def _clip_gradients(self):
        if self.clipvalue is None and self.clipnorm is None and self.global_clipnorm is None:
            return
        params = self._with_grads()
        if self.clipvalue is not None:
            for p in params:
                p.grad = ember.from_numpy(np.clip(p.grad.numpy(), -self.clipvalue,
                                                  self.clipvalue))
        elif self.clipnorm is not None:
            for p in params:
                g = p.grad.numpy()
                norm = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
                if norm > self.clipnorm:
                    p.grad = ember.from_numpy((g * (self.clipnorm / norm)).astype(g.dtype))
        elif self.global_clipnorm is not None:
            norm = math.sqrt(sum(float(np.sum(np.square(p.grad.numpy(), dtype=np.float64)))
                                 for p in params))
            if norm > self.global_clipnorm:
                scale = self.global_clipnorm / norm
                for p in params:
                    g = p.grad.numpy()
                    p.grad = ember.from_numpy((g * scale).astype(g.dtype))

    def _apply_weight_decay(self, lr):
        # Keras 3: decoupled, applied to the variables before the update, scaled by the lr.
        factor = 1.0 - lr * self.weight_decay
        with ember.no_grad():
            for p in self._with_grads():
                p.mul_(factor)

    def _use_learning_rate(self, lr):
        """Gives the inner optimizer this step's learning rate (it varies: a schedule)."""
        for group in self._inner.param_groups:
            group["lr"] = lr

    def _before_step(self):
        pass

    def _make_inner(self, params):
        raise NotImplementedError


def _check_learning_rate(cls, value):
    """A number >= 0 (as a float), a LearningRateSchedule, or a function of no arguments."""
    if callable(value):
        return value
    return _check_number(cls, "learning_rate", value, low=0.0)


def _current_learning_rate(cls, learning_rate, iterations) -> float:
    if isinstance(learning_rate, schedules.LearningRateSchedule):
        value = learning_rate(iterations)
    elif callable(learning_rate):
        value = learning_rate()
    else:
        return learning_rate
    if isinstance(value, ember.Tensor):
        value = value.item()
    return _check_number(cls, "learning_rate (the schedule's value)", value, low=0.0)


def _snake(name):
    import re
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class SGD(Optimizer):
    """Keras SGD: ``v = momentum*v - lr*g; p += v`` (Nesterov: ``p += momentum*v - lr*g``),
    which is ember.optim.SGD (PyTorch form) for a constant learning rate."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, name="SGD",
                 **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         name=name, **kwargs)
        self.momentum = _check_number("SGD", "momentum", momentum, 0.0, 1.0)
        self.nesterov = bool(nesterov)

    def _make_inner(self, params):
        return ember.optim.SGD(params, lr=self.learning_rate, momentum=self.momentum,
                               nesterov=self.nesterov and self.momentum > 0)

    def _use_learning_rate(self, lr):
        if self.momentum == 0:
            return super()._use_learning_rate(lr)
        # Keras' velocity v = momentum*v - lr*g holds each step's own lr; with a varying lr
        # that is PyTorch's momentum buffer (-v) run with lr=1 on the gradient lr*g. A buffer
        # built under a constant lr (a schedule set later) is scaled by that lr once.
        for group in self._inner.param_groups:
            if group["lr"] != 1.0:
                for p in group["params"]:
                    buffer = self._inner.state[p].get("momentum_buffer")
                    if buffer is not None:
                        with ember.no_grad():
                            buffer.mul_(group["lr"])
            group["lr"] = 1.0
        for p in self._with_grads():
            p.grad = ember.from_numpy(p.grad.numpy() * lr)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Keras Adam: ``alpha = lr*sqrt(1-b2^t)/(1-b1^t); p -= alpha*m/(sqrt(v) + epsilon)``.
    Exact through ember.optim.Adam given ``eps = epsilon/sqrt(1-b2^t)`` at step t."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         name=name, **kwargs)
        cls = type(self).__name__
        self.beta_1 = _check_number(cls, "beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = _check_number(cls, "beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = _check_number(cls, "epsilon", epsilon, low=0.0)
        self.amsgrad = bool(amsgrad)

    def _make_inner(self, params):
        return ember.optim.Adam(params, lr=self.learning_rate, betas=(self.beta_1, self.beta_2),
                                eps=self.epsilon, amsgrad=self.amsgrad)

    def _before_step(self):
        t = self.iterations + 1
        eps = self.epsilon / math.sqrt(1.0 - self.beta_2 ** t)
        for group in self._inner.param_groups:
            group["eps"] = eps

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Keras AdamW: Adam with decoupled weight decay (default 0.004), as Keras 3 defines it."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float. "
                             "Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, use_ema=use_ema, name=name, **kwargs)


class RMSprop(Optimizer):
    """Keras RMSprop: ``v = rho*v + (1-rho)*g^2; p -= lr*g/sqrt(v + epsilon)`` (centered:
    ``sqrt(v - mean_g^2 + epsilon)``; momentum: ``mom = momentum*mom + lr*g/...; p -= mom``).
    See the module docstring for how this maps exactly onto ember.optim.RMSprop."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, name="rmsprop", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         name=name, **kwargs)
        self.rho = _check_number("RMSprop", "rho", rho, 0.0, 1.0, high_open=True)
        self.momentum = _check_number("RMSprop", "momentum", momentum, 0.0, 1.0)
        self.epsilon = _check_number("RMSprop", "epsilon", epsilon, low=0.0)
        self.centered = bool(centered)
        # Keras' epsilon inside the square root is carried in the state (needs rho > 0).
        self._eps_in_state = self.rho > 0.0

    def _make_inner(self, params):
        if self.momentum > 0 and self._varying_learning_rate:
            return RMSpropUpdate(params, lr=self.learning_rate, rho=self.rho,
                                 momentum=self.momentum, epsilon=self.epsilon,
                                 centered=self.centered)
        return ember.optim.RMSprop(params, lr=self.learning_rate, alpha=self.rho,
                                   eps=0.0 if self._eps_in_state else self.epsilon,
                                   momentum=self.momentum, centered=self.centered)

    def _use_learning_rate(self, lr):
        # PyTorch's buffer holds g/denom and Keras' holds lr*g/denom: with a varying lr (which
        # may reach 0) no rescaling of the buffer maps one onto the other, so a schedule with
        # momentum runs Keras' own update (RMSpropUpdate), chosen when the optimizer is built.
        if self.momentum > 0 and not isinstance(self._inner, RMSpropUpdate):
            raise NotImplementedError("RMSprop: a learning-rate schedule (or callable) set "
                                      "after the first update cannot be used with momentum > "
                                      "0; pass it to the constructor")
        super()._use_learning_rate(lr)

    def _before_step(self):
        if not self._eps_in_state or isinstance(self._inner, RMSpropUpdate):
            return
        shift = (1.0 - self.rho) * self.epsilon / self.rho
        start = self.epsilon / self.rho
        for p in self._with_grads():
            state = self._inner.state[p]
            square_avg = state.get("square_avg")
            if square_avg is None:
                _init_rmsprop_state(state, p, self.momentum, self.centered, start)
            else:
                with ember.no_grad():
                    square_avg.add_(shift)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


def _init_rmsprop_state(state, p, momentum, centered, square_avg_start):
    """The state ember.optim.RMSprop creates on its first step, with square_avg pre-shifted."""
    from ...optim.optimizer import _new_state, _new_step

    state["step"] = _new_step()
    state["square_avg"] = _new_state(p, square_avg_start)
    if momentum > 0:
        state["momentum_buffer"] = _new_state(p)
    if centered:
        state["grad_avg"] = _new_state(p)


class Adagrad(Optimizer):
    """Keras Adagrad: ``acc += g^2; p -= lr*g/sqrt(acc + epsilon)``, acc starting at
    initial_accumulator_value. Exact through ember.optim.Adagrad started at
    ``initial_accumulator_value + epsilon`` with eps=0."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, name="adagrad", **kwargs):
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         name=name, **kwargs)
        self.initial_accumulator_value = _check_number("Adagrad", "initial_accumulator_value",
                                                       initial_accumulator_value, low=0.0)
        self.epsilon = _check_number("Adagrad", "epsilon", epsilon, low=0.0)

    def _make_inner(self, params):
        return ember.optim.Adagrad(
            params, lr=self.learning_rate,
            initial_accumulator_value=self.initial_accumulator_value + self.epsilon, eps=0.0)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
