"""The recorder behind ember.onnx.export: runs a model once and writes down every op it calls.

Why a trace at ``Function.apply`` rather than a walk over known module types: every op of both
faces (nn modules, ``F.*``, ``ember.*``, tensor methods and operators, Keras layers) reaches the
kernels through ``Function.apply``, so one hook sees the glue code in ``forward`` (``view``,
``+``, ``cat``...) as well as the layers, and Keras layers (configured Modules on the same ops)
need no second mapping. Recurrent layers are the one exception: ``ops.rnn.rnn_layer`` packs an
LSTM's output and cell state into one buffer, so it is recorded whole, as one ONNX RNN node.

Values are keyed by the identity of their NumPy array: an in-place op replaces a tensor's array,
and ``detach`` shares it, so the array, not the Tensor object, is the value. Every array seen is
kept alive until the trace ends, so no id is reused. Ops none of whose inputs is a traced value
are not recorded (their result is a constant, folded at export).
"""
from __future__ import annotations

import functools
import sys
import threading

import numpy as np

from .. import autograd
from ..autograd import Function
from ..ops import rnn as _rnn_ops
from ..tensor import Tensor

RNN_LAYER = "rnn_layer"  # the kind of a recorded rnn_layer call
_lock = threading.Lock()  # one trace at a time: the hooks are patched on shared classes


class Ref:
    """A traced value in a recorded op's inputs or params."""
    __slots__ = ("vid",)

    def __init__(self, vid):
        self.vid = vid

    def __repr__(self):
        return f"Ref({self.vid})"


class Op:
    """One recorded call: kind (a Function class or RNN_LAYER), inputs and params with traced
    values replaced by Ref, the vids of its outputs, and the module it ran in."""
    __slots__ = ("kind", "inputs", "params", "outputs", "where")

    def __init__(self, kind, inputs, params, outputs, where):
        self.kind, self.inputs, self.params = kind, inputs, params
        self.outputs, self.where = outputs, where

    @property
    def name(self) -> str:
        return self.kind if isinstance(self.kind, str) else self.kind.__name__


class Trace:
    """The result of one run: ops in call order, each value's (shape, dtype), and the vids of
    the inputs and outputs (an output that is no traced value is kept as its array)."""

    def __init__(self):
        self.ops = []
        self.info = []          # vid -> (shape, dtype)
        self.arrays = []        # vid -> its array (kept alive anyway, for ids to stay unique)
        self.inputs = []        # vids of the model's tensor arguments
        self.outputs = []       # per flat output: Ref, or the constant array
        self._by_array = {}     # id(array) -> vid
        self._alive = []        # arrays kept so their ids stay unique
        self.where = []         # module name stack while running
        self.depth = 0          # > 0 inside a call recorded whole (rnn_layer)
        self.thread = threading.get_ident()

    def new_value(self, array) -> int:
        vid = len(self.info)
        self.info.append((tuple(array.shape), array.dtype))
        self.arrays.append(array)
        self._by_array[id(array)] = vid
        self._alive.append(array)
        return vid

    def ref(self, x):
        """x with a traced tensor (or array) replaced by its Ref; tuples and lists walked."""
        if isinstance(x, Tensor):
            vid = self._by_array.get(id(x._array))
            if vid is not None:
                return Ref(vid)
            self._alive.append(x._array)
            return x
        if isinstance(x, np.ndarray):
            vid = self._by_array.get(id(x))
            if vid is not None:
                return Ref(vid)
            self._alive.append(x)
            return x
        if isinstance(x, (tuple, list)):
            return type(x)(self.ref(v) for v in x)
        return x

    def active(self) -> bool:
        return self.depth == 0 and threading.get_ident() == self.thread

    def record(self, kind, inputs, params, outputs):
        if not (_has_ref(inputs) or _has_ref(params)):
            return  # nothing traced flows in: a constant
        vids = [None if o is None else self.new_value(_array_of(o)) for o in outputs]
        where = self.where[-1] if self.where else ("", "")
        self.ops.append(Op(kind, inputs, params, vids, where))


def _array_of(x):
    return x._array if isinstance(x, Tensor) else np.asarray(x)


def _has_ref(x) -> bool:
    if isinstance(x, Ref):
        return True
    if isinstance(x, dict):
        return any(_has_ref(v) for v in x.values())
    if isinstance(x, (tuple, list)):
        return any(_has_ref(v) for v in x)
    return False


def run(model, args, kwargs, module_names) -> Trace:
    """Calls model(*args, **kwargs) with the hooks in place and returns its Trace. The model's
    tensor arguments (args and kwargs values, in that order) are the trace's inputs."""
    trace = Trace()
    for t in list(args) + list(kwargs.values()):
        if isinstance(t, Tensor):
            trace.inputs.append(trace.new_value(t._array))
    with _lock, _hooks(trace, model, module_names), autograd.enable_grad():
        # Grad mode on: ember's inference shortcuts (kernels called without Function.apply)
        # are taken only when it is off.
        result = model(*args, **kwargs)
    for out in flatten_outputs(result):
        ref = trace.ref(out)
        trace.outputs.append(ref if isinstance(ref, Ref) else _array_of(out))
    return trace


def flatten_outputs(result) -> list:
    """The model's outputs in order, nested tuples/lists/dicts flattened (as torch.onnx does)."""
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, dict):
        result = list(result.values())
    if isinstance(result, (tuple, list)):
        return [t for item in result for t in flatten_outputs(item)]
    if result is None:
        return []
    raise TypeError(f"ember.onnx.export: the model returned a {type(result).__name__}; only "
                    "tensors, and tuples, lists or dicts of them, can be graph outputs")


class _hooks:
    """Patches Function.apply, every module's binding of rnn_layer, and each submodule's
    forward/call (to know where an op ran) for the duration of one trace."""

    def __init__(self, trace, model, module_names):
        self.trace, self.model, self.module_names = trace, model, module_names
        self.undo = []

    def __enter__(self):
        trace = self.trace
        original_apply = Function.__dict__["apply"]

        def apply(cls, *inputs, **params):
            if not trace.active():
                return original_apply.__func__(cls, *inputs, **params)
            refs, prefs = trace.ref(inputs), {k: trace.ref(v) for k, v in params.items()}
            if cls._ctx_style:  # a user's autograd.Function: recorded whole (and unmappable)
                trace.depth += 1
                try:
                    out = original_apply.__func__(cls, *inputs, **params)
                finally:
                    trace.depth -= 1
            else:
                out = original_apply.__func__(cls, *inputs, **params)
            trace.record(cls, refs, prefs, list(out) if isinstance(out, tuple) else [out])
            return out

        Function.apply = classmethod(apply)
        self.undo.append(lambda: setattr(Function, "apply", original_apply))
        self._patch_rnn_layer()
        self._patch_modules()
        return self

    def _patch_rnn_layer(self):
        trace, original = self.trace, _rnn_ops.rnn_layer

        @functools.wraps(original)
        def rnn_layer(input, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, *,
                      mode, reverse=False, mask=None, batch_first=False):
            call = functools.partial(original, input, h0, c0, weight_ih, weight_hh, bias_ih,
                                     bias_hh, mode=mode, reverse=reverse, mask=mask,
                                     batch_first=batch_first)
            if not trace.active():
                return call()
            refs = trace.ref((input, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh))
            trace.depth += 1
            try:
                with autograd.no_grad():
                    out = call()
            finally:
                trace.depth -= 1
            params = {"mode": mode, "reverse": bool(reverse), "batch_first": bool(batch_first),
                      "mask": mask}
            trace.record(RNN_LAYER, refs, params, list(out))
            return out

        for module in list(sys.modules.values()):
            name = getattr(module, "__name__", "") or ""
            if (name == "ember" or name.startswith("ember.")) and \
                    getattr(module, "rnn_layer", None) is original:
                setattr(module, "rnn_layer", rnn_layer)
                self.undo.append(functools.partial(setattr, module, "rnn_layer", original))

    def _patch_modules(self):
        trace = self.trace
        for module, name in self.module_names:
            for attr in ("forward", "call"):
                method = getattr(module, attr, None)
                if method is None or attr in module.__dict__ or not callable(method):
                    continue
                object.__setattr__(module, attr, _located(trace, method, name, module))
                self.undo.append(functools.partial(object.__delattr__, module, attr))

    def __exit__(self, *exc):
        for undo in reversed(self.undo):
            undo()
        return False


def _located(trace, method, name, module):
    """method, pushing (name, class name) on the trace's module stack while it runs."""
    where = (name, type(module).__name__)

    @functools.wraps(method)
    def located(*args, **kwargs):
        pushed = not trace.where or trace.where[-1] != where
        if pushed:
            trace.where.append(where)
        try:
            return method(*args, **kwargs)
        finally:
            if pushed:
                trace.where.pop()

    return located
