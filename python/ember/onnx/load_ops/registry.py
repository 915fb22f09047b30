"""The table of ONNX operators ember.onnx.load runs: each entry builds, from one node, the
function that computes it on ember tensors (so attributes are read and checked once, at load)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class OpSpec:
    build: Callable  # build(node: NodeInfo) -> run(*inputs) -> Tensor or tuple of Tensors
    since: int  # the oldest version of the operator whose semantics `build` implements
    # input positions holding statistics, not weights: initializers there become buffers
    frozen_inputs: tuple = ()


OPS: dict = {}


def register(*op_types: str, since: int = 1, frozen_inputs: tuple = ()):
    """Registers `build` for the ONNX operators `op_types` (domain ai.onnx)."""
    def decorate(build):
        for op_type in op_types:
            OPS[op_type] = OpSpec(build, since, frozen_inputs)
        return build
    return decorate
