"""The graph under construction for ember.onnx.export: nodes, initializers, names, and the
helpers op emitters share (constants, opset-dependent forms, dynamic sizes from the twin run).

Two traces of the model are at hand: the one on the user's arguments and a twin on arguments
whose dynamic axes are longer and whose values differ. A size that differs between them is
dynamic; a constant that differs came from the input's values by a path ember cannot see.
"""
from __future__ import annotations

import numpy as np

from .export_trace import Ref

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class ExportError(RuntimeError):
    """Raised when a model cannot be written as an equivalent ONNX graph."""


class Graph:
    def __init__(self, onnx, opset, trace, twin, param_names):
        self.onnx, self.helper, self.opset = onnx, onnx.helper, opset
        self.trace, self.twin = trace, twin
        self.param_names = param_names      # id(array) -> state_dict name
        self.nodes, self.initializers = [], []
        self.names = {}                     # vid -> ONNX value name
        self._consts = {}                   # id(array) -> initializer name
        self._alive = []
        self._taken = set()
        self.op = self.twin_op = None       # the op being emitted (for errors and sizes)

    # ---- names -------------------------------------------------------------------------------
    def unique(self, base: str) -> str:
        base = base or "value"
        name, n = base, 1
        while name in self._taken:
            name, n = f"{base}_{n}", n + 1
        self._taken.add(name)
        return name

    def _prefix(self) -> str:
        where = self.op.where[0] if self.op is not None else ""
        return f"/{where.replace('.', '/')}" if where else ""

    # ---- errors ------------------------------------------------------------------------------
    def error(self, message: str, kind=NotImplementedError):
        name, cls = self.op.where if self.op is not None else ("", "")
        place = f" (in module '{name}' of type {cls})" if name else \
            (f" (in the top-level module of type {cls})" if cls else "")
        op = self.op.name if self.op is not None else "?"
        return kind(f"ember.onnx.export: {op}{place}: {message}")

    # ---- values ------------------------------------------------------------------------------
    def shape(self, ref):
        return self.trace.info[ref.vid][0]

    def twin_shape(self, ref):
        return self.twin.info[ref.vid][0]

    def dtype(self, ref):
        return self.trace.info[ref.vid][1]

    def out_shapes(self, i=0):
        """The i-th output's shape in the trace and in the twin run."""
        return (self.trace.info[self.op.outputs[i]][0],
                self.twin.info[self.twin_op.outputs[i]][0])

    def shape_of(self, x):
        """The shape of a traced value or of a constant input."""
        return self.shape(x) if isinstance(x, Ref) else tuple(_array(x).shape)

    def dtype_of(self, x):
        return self.dtype(x) if isinstance(x, Ref) else _array(x).dtype

    def dynamic(self, ref) -> set:
        """Axes of the value whose size differs between the trace and its twin."""
        return {i for i, (a, b) in enumerate(zip(self.shape(ref), self.twin_shape(ref)))
                if a != b}

    def input(self, i):
        """The i-th input of the op being emitted as an ONNX name (constants checked against
        the twin run and made initializers); None stays None."""
        return self.value(self.op.inputs[i], self.twin_op.inputs[i])

    def param(self, key):
        return self.value(self.op.params[key], self.twin_op.params[key])

    def value(self, x, twin_x=None, dtype=None):
        if x is None:
            return None
        if isinstance(x, Ref):
            return self.names[x.vid]
        array = _array(x, dtype)
        if isinstance(twin_x, Ref):
            raise self.error("an input is a constant in one run and computed from the inputs "
                             "in the other", ExportError)
        if twin_x is not None:
            other = _array(twin_x, dtype)
            if not _same(other, array):
                raise self.error(
                    "one of its inputs is a tensor computed from the model's inputs outside "
                    "ember's ops (a conversion to NumPy or Python, a comparison, an int taken "
                    "from a size, or a value whose size follows a dynamic axis): ONNX would get "
                    "it as a constant", ExportError)
        return self.const(array, self._param_name(_base_array(x)))

    def _param_name(self, a):
        """The state_dict name of a parameter or buffer array, or of the one a reshaped view
        (a layer's weight.reshape(...) folded at export) shows."""
        name = self.param_names.get(id(a))
        base = getattr(a, "base", None)
        if name is None and isinstance(base, np.ndarray) and base.size == np.size(a):
            name = self.param_names.get(id(base))
        return name

    def const(self, array, name=None) -> str:
        array = np.asarray(array)
        key = id(array)
        if key in self._consts:
            return self._consts[key]
        name = self.unique(name or f"{self._prefix()}/Constant")
        self.initializers.append(self.onnx.numpy_helper.from_array(
            np.ascontiguousarray(array), name))
        self._consts[key] = name
        self._alive.append(array)
        return name

    def ints(self, values) -> str:
        return self.const(np.asarray(list(values), dtype=np.int64))

    def scalar(self, value, dtype) -> str:
        return self.const(np.asarray(value, dtype=dtype))

    def bind(self, i: int, name: str):
        """Makes `name` the ONNX value of the op's i-th output."""
        vid = self.op.outputs[i]
        if vid is not None:
            self.names[vid] = name

    # ---- nodes -------------------------------------------------------------------------------
    def node(self, op_type, inputs, outputs=1, **attrs):
        """Adds a node; returns its output name (or list of names when outputs > 1)."""
        prefix = self._prefix()
        names = [self.unique(f"{prefix}/{op_type}_output_{i}") for i in range(outputs)]
        inputs = ["" if i is None else i for i in inputs]
        while inputs and inputs[-1] == "":
            inputs.pop()
        self.nodes.append(self.helper.make_node(
            op_type, inputs, names, name=self.unique(f"{prefix}/{op_type}"),
            **{k: v for k, v in attrs.items() if v is not None}))
        return names[0] if outputs == 1 else names

    def cast(self, name, from_dtype, to_dtype):
        if np.dtype(from_dtype) == np.dtype(to_dtype):
            return name
        return self.node("Cast", [name], to=self.onnx_dtype(to_dtype))

    def onnx_dtype(self, dtype) -> int:
        return self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # ---- opset-dependent forms ---------------------------------------------------------------
    def squeeze(self, name, axes):
        return self.node("Squeeze", [name, self.ints(axes)])

    def unsqueeze(self, name, axes):
        return self.node("Unsqueeze", [name, self.ints(axes)])

    def reduce(self, op_type, name, axes, keepdims):
        """ReduceSum takes axes as an input since opset 13, the others since opset 18; axes
        None reduces over all axes."""
        keep = int(bool(keepdims))
        if axes is None:
            return self.node(op_type, [name], keepdims=keep)
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.node(op_type, [name, self.ints(axes)], keepdims=keep)
        return self.node(op_type, [name], axes=list(axes), keepdims=keep)

    def transpose(self, name, perm):
        if list(perm) == list(range(len(perm))):
            return name
        return self.node("Transpose", [name], perm=list(perm))


def _same(a, b) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _base_array(x):
    return x._array if hasattr(x, "_array") else x


def _array(x, dtype=None):
    a = _base_array(x)
    a = np.asarray(a)
    return a if dtype is None else a.astype(dtype, copy=False)
