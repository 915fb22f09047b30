"""Reverse-mode automatic differentiation: grad mode, the Function base class, the backward pass.

A Function runs on NumPy arrays. ``Function.apply`` unwraps tensors, calls ``forward`` and, when
gradients are needed, records the node so ``backward`` can be called later with the gradient of
the output; it returns one gradient (or None) per input.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import operator
import threading

import numpy as np

from . import post_accumulate_hooks
from ._errors import AxisError, broadcast_error, internal_error, op_name


class _GradState(threading.local):
    """Grad mode, one per thread as in PyTorch: a no_grad block in one thread (inference
    beside training, Keras predict beside fit) leaves every other thread's mode alone."""
    enabled = True  # what every thread starts with
    callbacks = ()  # run once when this thread's next backward ends (DDP's gradient reduction)


_state = _GradState()
_capture = None  # while autograd.grad runs: {id(tensor): summed gradient} instead of .grad
_Tensor = None  # ember.Tensor, set by tensor.py (which imports this module)


def is_grad_enabled() -> bool:
    return _state.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager and decorator that turns gradient recording on or off."""

    def __init__(self, mode: bool):
        self.prev = _state.enabled
        _state.enabled = bool(mode)

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class _GradMode(contextlib.ContextDecorator):
    mode = True

    def __new__(cls, orig_func=None):
        # @no_grad without parentheses: the class is called with the function to wrap.
        if orig_func is None or not callable(orig_func):  # inference_mode(False) is a mode
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, func):  # usable as @no_grad() and as @no_grad
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            ctx = super(_GradMode, type(self)).__new__(type(self))  # fresh: calls may nest
            ctx.mode = self.mode
            with ctx:
                return func(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Disables gradient recording: ``with ember.no_grad(): ...`` or ``@ember.no_grad()``."""
    mode = False


class enable_grad(_GradMode):
    """Re-enables gradient recording inside a ``no_grad`` block."""
    mode = True


class inference_mode(no_grad):
    """Same as ``no_grad`` in ember."""

    def __init__(self, mode: bool = True):
        self.mode = not mode


_next_seq = itertools.count(1).__next__
_new_object = object.__new__


class Function:
    """Base class of differentiable ops.

    Subclasses implement ``forward(self, *arrays, **params) -> ndarray`` (saving on ``self``
    what backward needs) and ``backward(self, grad_output) -> tuple`` with one gradient or None
    per positional input. ``self.needs_input_grad[i]`` says whether input i needs one.
    """

    inputs: tuple = ()            # the input tensors (leaves receive their .grad through them)
    input_fns: tuple = ()         # each input's grad_fn when this op ran: the graph's edges
    needs_input_grad: tuple = ()
    _seq = 0                      # creation order: a node runs its backward before its inputs'
    # True when backward returns new arrays that nothing else references (kernel outputs, one per
    # input): a leaf may then keep one as its .grad without the defensive copy.
    new_grads = False
    _freed = None                 # after a backward without retain_graph: the node's name
    _ctx_style = False            # a user's torch.autograd.Function: static forward(ctx, ...)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if isinstance(vars(cls).get("forward"), staticmethod):
            cls._ctx_style = True

    @classmethod
    def apply(cls, *inputs, **params):
        # Every op's call comes through here: one pass over the inputs, and the output tensor
        # built in place (what Tensor._from_op does, without a call).
        if cls._ctx_style:
            from .custom_function import apply_ctx_function
            return apply_ctx_function(cls, inputs, params)
        Tensor = _Tensor
        fn = cls()
        arrays, record = [], False
        for t in inputs:
            if isinstance(t, Tensor):
                arrays.append(t._array)
                if t.requires_grad:
                    record = True
            else:
                arrays.append(t)
        out = _new_object(Tensor)
        out._grad = None
        out._retains_grad = False
        try:  # free in CPython 3.11+ unless it raises
            if record and _state.enabled:
                fn.inputs = inputs
                # Edges go to the producing nodes as they were now, so an in-place op that later
                # makes an input tensor the output of a new node does not rewire this one.
                fn.input_fns = tuple([t.grad_fn if isinstance(t, Tensor) else None
                                      for t in inputs])
                fn.needs_input_grad = tuple([isinstance(t, Tensor) and t.requires_grad
                                             for t in inputs])
                fn._seq = _next_seq()
                out._array = fn.forward(*arrays, **params)
                out.grad_fn, out.requires_grad = fn, True
            else:
                out._array = fn.forward(*arrays, **params)
                out.grad_fn, out.requires_grad = None, False
        except ValueError as e:
            if not isinstance(e, AxisError):
                raise broadcast_error(cls.__name__.lower(), e, arrays) from None
            raise internal_error(op_name(cls, params), e, inputs, params) from None
        except (AttributeError, KeyError, TypeError, OverflowError, ZeroDivisionError) as e:
            raise internal_error(op_name(cls, params), e, inputs, params) from None
        if not isinstance(out._array, np.ndarray):  # NumPy gives a scalar for 0-d operands (0 + t)
            out._array = np.asarray(out._array)
        return out

    def forward(self, *arrays, **params):
        raise NotImplementedError

    def backward(self, grad_output):
        raise NotImplementedError

    @property
    def name(self) -> str:
        return self._freed or self._name()

    def _name(self) -> str:
        """The node's name, as PyTorch's grad_fn names print; subclasses may use their settings."""
        return type(self).__name__ + "Backward"

    def _release(self):
        """Drops everything forward saved and the graph edges, keeping only the node's name: a
        second backward through it is then a clear error."""
        name = self.name
        d = self.__dict__
        d.clear()
        d["_freed"] = name

    def __repr__(self):
        return f"<{self.name} object>"


def _topological_order(root_fn):
    """Nodes reachable from root_fn, each after every node that feeds gradient into it: an
    input's node was created before the node using it, so decreasing creation order is one."""
    nodes, seen = [root_fn], {root_fn}
    for node in nodes:  # grows while it is walked
        for child in node.input_fns:
            if child is not None and child not in seen:
                seen.add(child)
                nodes.append(child)
    nodes.sort(key=_creation_order, reverse=True)
    return nodes


_creation_order = operator.attrgetter("_seq")


def _accumulate_leaf(t, g):
    if g.dtype != t._array.dtype:
        g = g.astype(t._array.dtype)
    if t._grad is None:  # the slot itself: .grad's setter checks what users assign
        # Always copy: backward functions may hand the same array to several inputs.
        t._grad = _Tensor._from_op(np.array(g, copy=True), None)
    else:  # asarray: NumPy adds 0-d arrays into a scalar
        t._grad._array = np.asarray(t._grad._array + g)


def zero_grads(params, set_to_none: bool = True) -> None:
    """Module.zero_grad and Optimizer.zero_grad: drop each .grad, or zero it in place."""
    if set_to_none:
        for p in params:
            p._grad = None  # the slot itself: nothing to check (and zero_grad runs every step)
        return
    for p in params:
        g = p._grad
        if g is not None:
            g.grad_fn, g.requires_grad = None, False
            g._array = np.zeros_like(g._array)


def _add_captured(key, g):
    prev = _capture[key]
    _capture[key] = np.array(g, copy=True) if prev is None else np.asarray(prev + g)


def queue_callback(fn):
    """Runs ``fn()`` once, when this thread's next backward (into .grad) has finished."""
    _state.callbacks = _state.callbacks + (fn,)


def run_backward(root, grad, retain_graph: bool = False):
    """Backpropagates ``grad`` (an ndarray of root's shape) from tensor ``root``."""
    _backward_into(root, grad, retain_graph)
    if _state.callbacks and _capture is None:
        callbacks, _state.callbacks = _state.callbacks, ()
        for fn in callbacks:
            fn()


def _backward_into(root, grad, retain_graph):
    root_fn = root.grad_fn
    if _capture is not None and id(root) in _capture:
        _add_captured(id(root), grad)
    if root_fn is None:
        if root.requires_grad:
            if _capture is None:
                _accumulate_leaf(root, grad)
                if post_accumulate_hooks.active():
                    with no_grad():
                        post_accumulate_hooks.fire([root], {id(root)})
            return
        raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    grads = {root_fn: grad}
    prev_mode, _state.enabled = _state.enabled, False
    try:
        _backward_nodes(root_fn, grads, retain_graph)
    finally:
        _state.enabled = prev_mode


def _backward_nodes(root_fn, grads, retain_graph):
    """Runs each node's backward in topological order, routing gradients to its inputs."""
    capture = _capture
    order = _topological_order(root_fn)
    # {node: leaves whose post-accumulate-grad hooks run after it}, None when none are hooked
    hooked = post_accumulate_hooks.last_uses(order) \
        if capture is None and post_accumulate_hooks.active() else None
    received = set()  # ids of the leaves this backward gave a gradient
    for node in order:
        g = grads.pop(node, None)
        if g is None:
            if hooked is not None and node in hooked:
                post_accumulate_hooks.fire(hooked[node], received)
            continue
        if node._freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time ({node.name}): its saved "
                "values were freed by the first backward. Pass retain_graph=True to the first "
                "backward() call if you need to backward twice.")
        input_grads = node.backward(g)
        inputs = node.inputs
        if len(input_grads) != len(inputs):
            raise RuntimeError(f"{node.name} returned {len(input_grads)} gradients for "
                               f"{len(inputs)} inputs")
        for t, fn, gi, need in zip(inputs, node.input_fns, input_grads, node.needs_input_grad):
            if not need or gi is None:
                continue
            if type(gi) is not np.ndarray:  # a 0-d gradient that NumPy made a scalar
                gi = np.asarray(gi)
            if gi.shape != t._array.shape:
                raise RuntimeError(f"{node.name} produced a gradient of shape {gi.shape} for an "
                                   f"input of shape {t._array.shape}")
            if capture is not None:  # autograd.grad: leave every .grad alone
                if id(t) in capture and (fn is None or t.grad_fn is fn):
                    _add_captured(id(t), gi)
                if fn is None:
                    continue
            elif fn is None:
                if hooked is not None:
                    received.add(id(t))
                if t._grad is None and node.new_grads and gi.dtype is t._array.dtype:
                    t._grad = _Tensor._from_op(gi, None)  # gi is this leaf's alone: no copy
                else:
                    _accumulate_leaf(t, gi)
                continue
            elif t._retains_grad and t.grad_fn is fn:
                _accumulate_leaf(t, gi)
            prev = grads.get(fn)
            grads[fn] = gi if prev is None else prev + gi
        if not retain_graph:
            node._release()
        if hooked is not None and node in hooked:
            post_accumulate_hooks.fire(hooked[node], received)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated."""
    if create_graph:
        raise NotImplementedError("ember.autograd.grad: create_graph=True (higher-order "
                                  "gradients) is not supported")
    Tensor = _Tensor
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    global _capture
    captured = {id(t): None for t in inputs}
    prev_capture, _capture = _capture, captured
    try:
        for out, g in zip(outputs, grad_outputs):
            out.backward(g, retain_graph=bool(retain_graph))
    finally:
        _capture = prev_capture
    result = []
    for i, t in enumerate(inputs):
        g = captured[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been "
                               "used in the graph. Set allow_unused=True if this is the "
                               "desired behavior.")
        result.append(None if g is None else Tensor._from_op(
            g.astype(t._array.dtype, copy=False), None))
    return tuple(result)
