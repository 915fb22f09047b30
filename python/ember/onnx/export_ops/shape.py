"""Shape ops: Reshape, Transpose, Expand, Concat, stacking and basic indexing.

Sizes baked into an op (a reshape's target, a slice's bounds) are compared with the twin run:
a size that changes with a dynamic axis is written in ONNX's size-free forms (0 copies an input
dimension, -1 infers one, a negative bound counts from the end), or the export stops with an
error naming the op, rather than writing a graph that only runs at the traced size.
"""
import numpy as np

from ...ops.shape import Cat, Expand, GetItem, Permute, Reshape, Stack
from ..export_graph import INT64_MAX, INT64_MIN
from ..export_trace import Ref


def reshape_target(g, in_shape, twin_in, out_shape, twin_out):
    """Reshape's shape input for out_shape: dimensions the twin run shows to be dynamic become
    0 (a copy of the same input axis) or, for at most one, -1."""
    target, inferred = [], None
    for i, (a, b) in enumerate(zip(out_shape, twin_out)):
        if a == b:
            target.append(int(a))
        elif i < len(in_shape) and in_shape[i] == a and twin_in[i] == b:
            target.append(0)
        elif inferred is None:
            inferred = i
            target.append(-1)
        else:
            raise g.error(f"the reshape of {tuple(in_shape)} to {tuple(out_shape)} has several "
                          "dimensions that change with the dynamic axes; ONNX's Reshape can "
                          "infer only one")
    if inferred is None and 0 in target and any(a == 0 for a in out_shape):
        raise g.error("a reshape to an empty dimension next to a copied one is ambiguous in ONNX")
    return target


def _reshape(g):
    op = g.op
    x = op.inputs[0]
    target = reshape_target(g, g.shape(x), g.twin_shape(x), *g.out_shapes())
    g.bind(0, g.node("Reshape", [g.input(0), g.ints(target)]))


def _permute(g):
    dims = [int(d) % len(g.op.params["dims"]) for d in g.op.params["dims"]]
    x = g.input(0)
    g.bind(0, g.node("Transpose", [x], perm=dims) if dims != sorted(dims) else
           g.node("Identity", [x]))


def _expand(g):
    """Expand: -1 keeps a dimension; ONNX's Expand keeps one where the shape says 1."""
    op = g.op
    in_shape, twin_in = g.shape(op.inputs[0]), g.twin_shape(op.inputs[0])
    out_shape, twin_out = g.out_shapes()
    lead = len(out_shape) - len(in_shape)
    target = []
    for i, (a, b) in enumerate(zip(out_shape, twin_out)):
        j = i - lead
        if j >= 0 and in_shape[j] == a and twin_in[j] == b:
            target.append(1)  # the input's own size (broadcasting keeps it)
        elif a == b:
            target.append(int(a))
        else:
            raise g.error(f"expanding {tuple(in_shape)} to {tuple(out_shape)}: a new size that "
                          "changes with the dynamic axes")
    g.bind(0, g.node("Expand", [g.input(0), g.ints(target)]))


def _cat(g):
    op = g.op
    rank = len(g.out_shapes()[0])
    names = [g.input(i) for i in range(len(op.inputs))]
    g.bind(0, g.node("Concat", names, axis=int(op.params.get("dim", 0)) % rank))


def _stack(g):
    op = g.op
    rank = len(g.out_shapes()[0])
    axis = int(op.params.get("dim", 0)) % rank
    names = [g.unsqueeze(g.input(i), [axis]) for i in range(len(op.inputs))]
    g.bind(0, g.node("Concat", names, axis=axis))


def _bound(g, value, twin_value, size, twin_size, what, default):
    """A slice bound or an index as ONNX wants it: None -> default; a value that tracks the
    dynamic size (size - k in both runs) -> -k."""
    if value is None:
        return default
    value, twin_value = int(value), int(twin_value)
    if value == twin_value:
        return value
    if size - value == twin_size - twin_value:
        k = size - value
        return -k if k else INT64_MAX
    raise g.error(f"the {what} {value} of an index changes with the dynamic axes in a way "
                  "ONNX's Slice cannot express")


def _getitem(g):
    op = g.op
    shape, twin_shape = g.shape(op.inputs[0]), g.twin_shape(op.inputs[0])
    index, twin_index = _items(op.params["index"]), _items(g.twin_op.params["index"])
    index, twin_index = _expand_ellipsis(index, len(shape)), _expand_ellipsis(twin_index,
                                                                              len(shape))
    x = x0 = g.input(0)
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    gathers = []
    axis = out_axis = 0
    for item, twin_item in zip(index, twin_index):
        if item is None:
            unsqueeze.append(out_axis)
            out_axis += 1
            continue
        size, twin_size = shape[axis], twin_shape[axis]
        if isinstance(item, slice):
            step = 1 if item.step is None else int(item.step)
            if step != (1 if twin_item.step is None else int(twin_item.step)):
                raise g.error("a slice step that changes with the dynamic axes")
            forward = step > 0
            start = _bound(g, item.start, twin_item.start, size, twin_size, "start",
                           0 if forward else INT64_MAX)
            end = _bound(g, item.stop, twin_item.stop, size, twin_size, "stop",
                         INT64_MAX if forward else INT64_MIN)
            if (start, end, step) != (0, INT64_MAX, 1):
                starts.append(start), ends.append(end), axes.append(axis), steps.append(step)
            out_axis += 1
        elif isinstance(item, (int, np.integer)):
            i = _bound(g, item, twin_item, size, twin_size, "index", 0)
            starts.append(i), ends.append(i + 1 if i != -1 else INT64_MAX)
            axes.append(axis), steps.append(1)
            squeeze.append(axis)
        elif isinstance(item, (Ref, np.ndarray)) or hasattr(item, "_array"):
            gathers.append((axis, item, twin_item))
            out_axis += 1
        else:
            raise g.error(f"indexing with a {type(item).__name__} has no ONNX mapping in ember")
        axis += 1
    if gathers:
        if len(gathers) > 1 or starts or squeeze or unsqueeze:
            raise g.error("indexing with a tensor is exported only alone, on one axis with "
                          "full slices elsewhere")
        gather_axis, item, twin_item = gathers[0]
        indices = g.value(item, twin_item)
        dtype = g.dtype_of(item)
        if np.dtype(dtype).kind == "b":
            raise g.error("boolean-mask indexing has a data-dependent shape: no ONNX mapping")
        g.bind(0, g.node("Gather", [x, indices], axis=gather_axis))
        return
    if starts:
        x = g.node("Slice", [x, g.ints(starts), g.ints(ends), g.ints(axes), g.ints(steps)])
    if squeeze:
        x = g.squeeze(x, squeeze)
    if unsqueeze:
        x = g.unsqueeze(x, unsqueeze)
    if x == x0:
        x = g.node("Identity", [x])
    g.bind(0, x)


def _items(index):
    return index if isinstance(index, tuple) else (index,)


def _expand_ellipsis(index, rank):
    """The index with Ellipsis replaced by full slices (and missing trailing ones added)."""
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    out = []
    for item in index:
        if item is Ellipsis:
            out.extend([slice(None)] * (rank - used))
        else:
            out.append(item)
    if not any(i is Ellipsis for i in index):
        out.extend([slice(None)] * (rank - used))
    return out


EMITTERS = {Reshape: _reshape, Permute: _permute, Expand: _expand, Cat: _cat, Stack: _stack,
            GetItem: _getitem}
