"""ember.onnx.load: an ONNX model (written by PyTorch's exporter, ember or any other tool that
keeps to the standard operators) as an ember nn.Module running on ember's kernels."""
from __future__ import annotations

from .load_file import read_model
from .load_graph import plan_graph
from .load_module import OnnxModule


def load(f) -> OnnxModule:
    """Reads the ONNX model in `f` (a path, a binary file object, bytes or an onnx.ModelProto)
    and returns an nn.Module whose forward runs its graph.

    Float initializers become Parameters, so the module can be trained further; integer ones
    and BatchNormalization statistics become buffers. Weights kept as external data are read
    only from files inside the model's folder. What ember cannot run (an operator, an
    opset, an attribute of the wrong type or value) and a malformed file are errors naming the
    file and the node, raised here; sizes known only from the inputs are checked in forward.
    """
    model, source, folder = read_model(f)
    return OnnxModule(plan_graph(model, source, folder), source)
