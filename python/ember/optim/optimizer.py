"""Optimizer base class: parameter groups, per-parameter state and PyTorch's state_dict format.

Subclasses implement ``_step_group(group)``, which gathers the group's parameters that have a
gradient and calls the matching fused C++ kernel (``ember._core.*_step``) once for them all.
"""
from __future__ import annotations

import copy
import warnings
from collections import defaultdict

import numpy as np

from .. import autograd
from ..tensor import Tensor
from ._state_checks import (ParamGroup, check_param_state, check_state_dict_layout,
                            checked_constructor)


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(obj) -> str:
    return "ember.Tensor" if isinstance(obj, Tensor) else type(obj).__qualname__


def _check_unsupported(cls_name: str, capturable=False, differentiable=False):
    if capturable:
        raise NotImplementedError(f"{cls_name}: capturable=True (CUDA graphs) is not supported "
                                  "by ember")
    if differentiable:
        raise NotImplementedError(f"{cls_name}: differentiable=True is not supported by ember")


def _new_state(param: Tensor, fill: float = 0.0) -> Tensor:
    """A state tensor shaped like param: C-contiguous and writeable, as the kernels require."""
    return Tensor._from_op(np.full(param._array.shape, fill, dtype=param._array.dtype), None)


def _new_step() -> Tensor:
    # PyTorch keeps 'step' as a 0-d float32 tensor.
    return Tensor._from_op(np.zeros((), dtype=np.float32), None)


def _increment(step: Tensor) -> float:
    """Adds 1 to a 'step' state tensor in place and returns the new count.
    (Item assignment: ``arr += 1`` on a 0-d array costs ~3 us, several times this.)"""
    arr = step._array
    count = arr.item() + 1
    try:
        arr[()] = count
    except ValueError:  # read-only array
        step._array = np.array(count, dtype=arr.dtype)
    return count


def _make_kernel_ready(tensors) -> None:
    """Makes every tensor's array C-contiguous and writeable (the kernels update them in place)."""
    for t in tensors:
        if t is None:
            continue
        arr = t._array
        if not (arr.flags.c_contiguous and arr.flags.writeable):
            t._array = np.array(arr, order="C", copy=True)


def _run_kernel(kernel, updated, grads, *args) -> None:
    """Calls kernel(params, grads, *states, *args) on the arrays of ``updated`` (a list of lists
    of tensors: parameters first, then one list per state; None for an absent state).

    The arrays are passed as they are; the binding checks them all before touching any, so if
    one is strided or read-only, all are made kernel-ready and the call is retried once.
    """
    def arrays():
        return [[None if t is None else t._array for t in lst] for lst in updated]

    grad_arrays = [p._grad._array for p in grads]
    lists = arrays()
    try:
        kernel(lists[0], grad_arrays, *lists[1:], *args)
    except ValueError as err:
        if "C-contiguous" not in str(err):
            raise
        for lst in updated:
            _make_kernel_ready(lst)
        lists = arrays()
        kernel(lists[0], grad_arrays, *lists[1:], *args)


class Optimizer:
    """Base class of ember optimizers (PyTorch semantics and state_dict layout)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("ember.optim") and "__init__" in cls.__dict__:
            cls.__init__ = checked_constructor(cls.__init__)  # argument kinds, checked first

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        s = type(self).__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    def add_param_group(self, param_group: dict) -> None:
        """Adds a group of parameters; missing hyper-parameters take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not (param.is_leaf or param._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in param_group["params"]]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(ParamGroup(param_group, type(self).__name__, self.defaults))

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            autograd.zero_grads(group["params"], set_to_none)

    def step(self, closure=None):
        """Performs one update of every group; ``closure`` re-evaluates and returns the loss."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        # The kernels work on raw arrays: no graph is recorded, so no no_grad() is needed.
        for group in self.param_groups:
            params = [p for p in group["params"] if p._grad is not None]  # (the slot: no call)
            if params:
                self._step_group(group, params)
        return loss

    def _step_group(self, group: dict, params: list) -> None:
        raise NotImplementedError

    # ---- state_dict --------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{'state': {index: {name: tensor}}, 'param_groups': [{..., 'params': [index, ...]}]},
        indices counting parameters across groups in order (PyTorch's layout); deep copies."""
        index_of = {}
        param_groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            param_groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state and index_of[id(p)] not in state:
                    state[index_of[id(p)]] = {k: _copy_value(v) for k, v in self.state[p].items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restores hyper-parameters and state saved by state_dict() (values are deep-copied and
        cast to each parameter's dtype, except 'step')."""
        owner = type(self).__name__
        check_state_dict_layout(owner, state_dict)
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = {}
        for g, s in zip(groups, saved_groups):
            for old_id, p in zip(s["params"], g["params"]):
                id_map[old_id] = p
        new_state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                for name, value in v.items():
                    check_param_state(owner, k, p, name, value)
                new_state[p] = {name: _cast_state(p, name, value) for name, value in v.items()}
            else:
                new_state[k] = copy.deepcopy(v)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            new_group = {k: copy.deepcopy(v) for k, v in s.items() if k != "params"}
            new_group["params"] = g["params"]
            new_groups.append(ParamGroup(new_group, owner, self.defaults))
        self.__setstate__({"state": new_state, "param_groups": new_groups})


def _copy_value(v):
    if isinstance(v, Tensor):
        return Tensor._from_op(v._array.copy(), None)
    return copy.deepcopy(v)


def _cast_state(param: Tensor, name: str, value):
    """A private copy of one saved state value; arrays take the parameter's dtype (not 'step')."""
    if name == "step":
        return _checked_step(value)
    if isinstance(value, Tensor) or isinstance(value, np.ndarray):
        arr = value._array if isinstance(value, Tensor) else value
        if name != "step" and arr.dtype.kind == "f":
            arr = arr.astype(param._array.dtype)
        return Tensor._from_op(np.array(arr, order="C", copy=True), None)
    if name != "step" and hasattr(value, "numpy") and hasattr(value, "shape"):
        arr = np.asarray(value.detach().numpy() if hasattr(value, "detach") else value.numpy())
        return Tensor._from_op(np.array(arr, dtype=param._array.dtype, order="C"), None)
    return copy.deepcopy(value)


def _checked_step(value):
    """A saved 'step' as the 0-d tensor step() keeps: a finite non-negative number (a plain
    number or a one-element tensor or array); anything else would break every later step()."""
    count = value
    if isinstance(value, (Tensor, np.ndarray)) or hasattr(value, "item"):
        size = value.numel() if hasattr(value, "numel") else np.size(value)
        count = value.item() if size == 1 else None
    if (isinstance(count, bool) or not isinstance(count, (int, float, np.number))
            or not np.isfinite(count) or count < 0):
        raise ValueError(f"load_state_dict: 'step' must be a finite non-negative number, got "
                         f"{value!r:.80}")
    return Tensor._from_op(np.asarray(float(count), dtype=np.float32), None)
