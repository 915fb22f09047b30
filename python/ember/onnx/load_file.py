"""Reading an ONNX file into its protobuf message, bounded and with clear errors: what
ember.onnx.load does before it looks at the graph."""
from __future__ import annotations

import os

from .._file_io import read_file

OP = "ember.onnx.load"
MAX_MESSAGE_BYTES = 2**31 - 1  # protobuf refuses messages of 2 GiB or more
AI_ONNX = ("", "ai.onnx")
MIN_OPSET = 7  # the oldest opset PyTorch's exporter writes


def require_onnx():
    """The onnx package, imported only when a model is loaded (ember imports without it)."""
    try:
        import onnx
    except ImportError as err:
        raise ImportError(f'{OP} needs onnx: pip install "ember[onnx]"') from err
    return onnx


def read_model(f):
    """(ModelProto, the file's name for messages, the model's folder or None) of a path, a
    binary file object, bytes or an onnx.ModelProto."""
    onnx = require_onnx()
    if isinstance(f, (bytes, bytearray, memoryview)):
        data, source, folder = bytes(f), "<bytes>", None
    elif isinstance(f, (str, os.PathLike)):
        source = os.fspath(f)
        data = read_file(f, OP)
        folder = os.path.dirname(os.path.abspath(source))
    elif isinstance(f, onnx.ModelProto):  # already parsed: checked like any other
        data, source, folder = f.SerializeToString(), "<ModelProto>", None
    elif hasattr(f, "read"):
        source, folder = getattr(f, "name", "<file object>"), None
        data = read_file(f, OP)
        if not isinstance(source, str):
            source = "<file object>"
    else:
        raise TypeError(f"{OP}: expected a path, a binary file object, bytes or an "
                        f"onnx.ModelProto, got {type(f).__name__}")
    if not isinstance(data, bytes):
        raise TypeError(f"{OP}: {source} must be opened in binary mode ('rb'), it gave "
                        f"{type(data).__name__}")
    if len(data) > MAX_MESSAGE_BYTES:
        raise ValueError(f"{OP}: {source} is {len(data)} bytes; an ONNX file holds at most 2 GiB "
                         "(larger models keep their weights as external data)")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as err:  # protobuf's DecodeError, or its RecursionError-like refusals
        raise ValueError(f"{OP}: {source} is not a readable ONNX model (truncated or corrupt): "
                         f"{err}") from None
    _check_header(model, source, onnx)
    return model, source, folder


def _check_header(model, source: str, onnx) -> None:
    if model.ir_version < 3 or not model.HasField("graph"):
        raise ValueError(f"{OP}: {source} is not an ONNX model (IR version {model.ir_version}, "
                         f"{'a' if model.HasField('graph') else 'no'} graph)")
    if model.ir_version > onnx.IR_VERSION:
        raise NotImplementedError(f"{OP}: {source} has IR version {model.ir_version}, newer "
                                  f"than the {onnx.IR_VERSION} of the installed onnx package")


def opset_version(model, source: str, onnx) -> int:
    """The ai.onnx opset the model imports, checked to be one ember reads."""
    versions = [o.version for o in model.opset_import if o.domain in AI_ONNX]
    if len(versions) != 1:
        raise ValueError(f"{OP}: {source} must import the ai.onnx opset exactly once, it "
                         f"imports it {len(versions)} times")
    newest = onnx.defs.onnx_opset_version()
    if not MIN_OPSET <= versions[0] <= newest:
        raise NotImplementedError(f"{OP}: {source} uses opset {versions[0]} of ai.onnx; ember "
                                  f"reads opsets {MIN_OPSET} to {newest}")
    return int(versions[0])
