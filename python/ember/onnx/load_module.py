"""OnnxModule: an ONNX graph as an ember nn.Module. Its float initializers are Parameters (so
the model can be fine-tuned), other initializers and Constant nodes buffers; forward runs the
nodes in order on ember's operators, with autograd."""
from __future__ import annotations

import re

import numpy as np

from ..nn.module import Module
from ..nn.parameter import Parameter
from ..tensor import Tensor


def _attribute_name(module, onnx_name: str, taken: set, counters: dict) -> str:
    """A module attribute name for an ONNX value name ('fc1.weight' -> 'fc1_weight'), clear of
    the names taken and of the module's own attributes (an initializer called 'forward')."""
    base = re.sub(r"\W", "_", onnx_name) or "value"
    if base[0].isdigit():
        base = "_" + base
    k = counters.get(base, 0)  # counted per base, so that many clashing names stay linear
    name = f"{base}_{k}" if k else base
    while name in taken or hasattr(module, name):
        k += 1
        name = f"{base}_{k}"
    counters[base] = k + 1
    taken.add(name)
    return name


class OnnxModule(Module):
    """The module ember.onnx.load returns. forward(*inputs) takes the graph's inputs in order
    (ember tensors) and returns its output, or a tuple when the graph has several."""

    def __init__(self, plan, source: str):
        super().__init__()
        self.source = source
        self._plan = plan
        self.value_names = {}  # ONNX value name -> this module's parameter or buffer name
        taken, counters = set(), {}
        for onnx_name, (array, trainable) in plan.stored.items():
            name = _attribute_name(self, onnx_name, taken, counters)
            self.value_names[onnx_name] = name
            if trainable:
                self.register_parameter(name, Parameter(array))
            else:
                self.register_buffer(name, Tensor._from_op(array, None))

    @property
    def input_names(self) -> list:
        return [spec.name for spec in self._plan.inputs]

    @property
    def output_names(self) -> list:
        return list(self._plan.outputs)

    def extra_repr(self) -> str:
        return (f"source={self.source!r}, inputs={self.input_names}, "
                f"outputs={self.output_names}, nodes={len(self._plan.steps)}")

    def forward(self, *inputs):
        plan = self._plan
        if len(inputs) != len(plan.inputs):
            raise TypeError(f"{self.source}: the model takes {len(plan.inputs)} input(s) "
                            f"{self.input_names}, got {len(inputs)}")
        values = {}
        for onnx_name, name in self.value_names.items():
            values[onnx_name] = getattr(self, name)
        for spec, x in zip(plan.inputs, inputs):
            values[spec.name] = _checked_input(self.source, spec, x)
        for step in plan.steps:
            args = [values[name] if name else None for name in step.inputs]
            try:
                result = step.run(*args)
            except Exception as err:  # noqa: BLE001  (re-raised with the node named)
                raise _at_node(err, self.source, step.node) from err
            results = result if isinstance(result, tuple) else (result,)
            for name, value in zip(step.outputs, results):
                if name:
                    values[name] = value
            for name in step.free:
                values.pop(name, None)
        outputs = tuple(values[name] for name in plan.outputs)
        return outputs[0] if len(outputs) == 1 else outputs


def _checked_input(source: str, spec, x) -> Tensor:
    what = f"{source}: input {spec.name!r}"
    if not isinstance(x, Tensor):
        raise TypeError(f"{what} must be an ember Tensor, got {type(x).__name__}")
    kind, expected = x._array.dtype.kind, spec.dtype.kind
    if (kind == "f") != (expected == "f") or (expected == "b") != (kind == "b"):
        raise TypeError(f"{what} must be of dtype {spec.dtype}, got {x.dtype}")
    if spec.dims is not None:
        shape = tuple(x.shape)
        if len(shape) != len(spec.dims) or any(
                isinstance(d, (int, np.integer)) and d > 0 and d != s
                for d, s in zip(spec.dims, shape)):
            wanted = tuple(d if isinstance(d, int) and d > 0 else (d or "?") for d in spec.dims)
            raise ValueError(f"{what} must have shape {wanted}, got {shape}")
    return x


def _at_node(err: Exception, source: str, node) -> Exception:
    """`err` with the file and node that raised it named first, of the same class when that
    class takes a message."""
    message = f"{source}: node {node.name!r} ({node.op_type}): {err}"
    try:
        return type(err)(message)
    except Exception:  # noqa: BLE001  (a class that wants other arguments)
        return RuntimeError(message)
