"""From an ONNX graph to the plan an OnnxModule runs. Everything a file can get wrong is found
here, at load, with the file and the node named: operators ember does not run, attributes and
input counts their schema does not allow, edges that lead nowhere, cycles, bad initializers."""
from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

from .load_file import AI_ONNX, OP, opset_version, require_onnx
from .load_node import TYPE_NAMES, NodeInfo
from .load_ops import OPS, constant_value
from .load_tensors import numpy_dtype, to_array


@dataclass
class InputSpec:
    name: str
    dtype: np.dtype
    dims: list  # an int per static dimension, a name or None per dynamic one


@dataclass
class Step:
    node: NodeInfo
    run: object
    inputs: list
    outputs: list
    free: list = field(default_factory=list)  # values no later step needs


@dataclass
class Plan:
    inputs: list
    outputs: list
    stored: dict  # name -> (array, trainable): initializers and Constant nodes
    steps: list


def plan_graph(model, source: str, folder) -> Plan:
    onnx = require_onnx()
    opset = opset_version(model, source, onnx)
    graph = model.graph
    where = f"{OP}: {source}"
    if len(graph.sparse_initializer):
        raise NotImplementedError(f"{where}: sparse initializers are not supported by ember")

    def tensor(proto, what):
        return to_array(proto, what, folder)

    _check_text(where, [p.name for p in graph.initializer], [v.name for v in graph.input],
                [v.name for v in graph.output])
    stored = {}
    for proto in graph.initializer:
        _new_name(proto.name, stored, f"{where}: initializer")
        stored[proto.name] = tensor(proto, f"{where}: initializer {proto.name!r}")
    inputs = [_input_spec(vi, where) for vi in graph.input if vi.name not in stored]
    known = set(stored)
    for spec in inputs:
        _new_name(spec.name, known, f"{where}: graph input")
        known.add(spec.name)
    nodes = [_node(proto, i, source, opset, onnx, tensor) for i, proto in enumerate(graph.node)]
    frozen, trainable = set(), set()
    steps = []
    for node in _topological(nodes, known, where):
        if node.op_type == "Constant":
            stored[node.outputs[0]] = constant_value(node)
            frozen.add(node.outputs[0])
            continue
        spec = OPS[node.op_type]
        for i, name in enumerate(node.inputs):
            (frozen if i in spec.frozen_inputs else trainable).add(name)
        steps.append(Step(node, spec.build(node), node.inputs, node.outputs))
    for node in nodes:  # read by now; kept, they would keep the whole parsed file alive
        node.attrs = {}
    outputs = [vi.name for vi in graph.output]
    produced = known | {name for node in nodes for name in node.outputs}
    if not outputs:
        raise ValueError(f"{where}: the graph has no outputs")
    for name in outputs:
        if name not in produced:
            raise ValueError(f"{where}: graph output {name!r} is produced by no node, "
                             "initializer or graph input")
    _plan_frees(steps, set(outputs))
    return Plan(inputs, outputs, {name: (array, name in trainable and name not in frozen
                                         and array.dtype.kind == "f")
                                  for name, array in stored.items()}, steps)


def _new_name(name: str, seen, what: str) -> None:
    if not name:
        raise ValueError(f"{what} without a name")
    if name in seen:
        raise ValueError(f"{what} {name!r} is defined twice")


def _input_spec(vi, where: str) -> InputSpec:
    what = f"{where}: graph input {vi.name!r}"
    if not vi.type.HasField("tensor_type"):
        raise NotImplementedError(f"{what}: only tensor inputs are supported by ember (not "
                                  "sequences, maps or optionals)")
    dims = None
    if vi.type.tensor_type.HasField("shape"):
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
                for d in vi.type.tensor_type.shape.dim]
    return InputSpec(vi.name, numpy_dtype(vi.type.tensor_type.elem_type, what), dims)


def _node(proto, index: int, source: str, opset: int, onnx, tensor) -> NodeInfo:
    _check_text(f"{OP}: {source}: node #{index}", [proto.op_type, proto.domain, proto.name],
                proto.input, proto.output, [a.name for a in proto.attribute])
    where = f"{OP}: {source}: node {proto.name or f'#{index}'!r} ({proto.op_type})"
    if proto.domain not in AI_ONNX:
        raise NotImplementedError(f"{where}: operators of domain {proto.domain!r} are not "
                                  "supported by ember (only the standard ai.onnx operators)")
    try:
        schema = onnx.defs.get_schema(proto.op_type, opset, "")
    except onnx.defs.SchemaError:
        raise ValueError(f"{where}: {proto.op_type!r} is not an ONNX operator of opset "
                         f"{opset}") from None
    spec = OPS.get(proto.op_type)
    if spec is None and proto.op_type != "Constant":
        raise NotImplementedError(f"{where}: the ONNX operator {proto.op_type} is not supported "
                                  "by ember.onnx.load")
    if spec is not None and schema.since_version < spec.since:
        raise NotImplementedError(f"{where}: {proto.op_type}-{schema.since_version} (opset "
                                  f"{opset}) is not supported by ember, which reads "
                                  f"{proto.op_type} from version {spec.since}")
    _check_schema(proto, schema, where)
    return NodeInfo(proto, index, source, schema.since_version, tensor)


def _check_schema(proto, schema, where: str) -> None:
    """Input and output counts, attribute names, types and presence, as the schema says."""
    for kind, items, low, high in (("inputs", proto.input, schema.min_input, schema.max_input),
                                   ("outputs", proto.output, schema.min_output,
                                    schema.max_output)):
        if not low <= len(items) <= high:
            bound = f"{low} to {high}" if high < 2**31 - 1 else f"at least {low}"
            raise ValueError(f"{where}: takes {bound} {kind}, the node has {len(items)}")
    names = [a.name for a in proto.attribute]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: an attribute is given twice ({names})")
    for attr in proto.attribute:
        expected = schema.attributes.get(attr.name)
        if expected is None:
            raise ValueError(f"{where}: {proto.op_type} has no attribute {attr.name!r}")
        if attr.ref_attr_name:
            raise ValueError(f"{where}: attribute {attr.name!r} refers to a function's "
                             "attribute outside a function")
        if attr.type != int(expected.type):
            raise ValueError(f"{where}: attribute {attr.name!r} must be of type "
                             f"{TYPE_NAMES.get(int(expected.type), expected.type)}, got "
                             f"{TYPE_NAMES.get(attr.type, attr.type)}")
    for name, expected in schema.attributes.items():
        if expected.required and name not in names:
            raise ValueError(f"{where}: the required attribute {name!r} is missing")


def _topological(nodes: list, known: set, where: str) -> list:
    """The nodes in an order where each runs after what it reads (Kahn's algorithm, keeping
    the file's order among nodes that are ready together)."""
    producer = {}
    for node in nodes:
        for name in node.outputs:
            if not name:
                continue
            if name in known or name in producer:
                raise ValueError(f"{node.where}: its output {name!r} is already defined by "
                                 "another node, an initializer or a graph input")
            producer[name] = node
    waiting, users = {}, collections.defaultdict(list)
    for i, node in enumerate(nodes):
        needs = {name for name in node.inputs if name and name not in known}
        for name in needs:
            if name not in producer:
                raise ValueError(f"{node.where}: its input {name!r} is produced by no node, "
                                 "initializer or graph input")
            users[name].append(i)
        waiting[i] = len(needs)
    ready = collections.deque(i for i, n in waiting.items() if n == 0)
    order = []
    while ready:
        i = ready.popleft()
        order.append(nodes[i])
        for name in nodes[i].outputs:
            for j in users.get(name, ()):
                waiting[j] -= 1
                if waiting[j] == 0:
                    ready.append(j)
    if len(order) != len(nodes):
        stuck = [nodes[i].name for i, n in waiting.items() if n > 0]
        raise ValueError(f"{where}: the graph has a cycle: nodes {stuck[:10]} each wait for "
                         "another's output")
    return order


def _plan_frees(steps: list, keep: set) -> None:
    """After each step, the values no later step reads (so a forward holds only live ones)."""
    last = {}
    for i, step in enumerate(steps):
        for name in step.inputs:
            if name:
                last[name] = i
    for name, i in last.items():
        if name not in keep:
            steps[i].free.append(name)


def _check_text(where: str, *groups) -> None:
    """Names must be text: protobuf hands a name that is not valid UTF-8 over as bytes."""
    for group in groups:
        for value in group:
            if not isinstance(value, str):
                raise ValueError(f"{where}: the name {value[:40]!r} is not valid UTF-8 text "
                                 "(the file is corrupt)")
