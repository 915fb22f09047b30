"""Writing an exported ONNX model: to a path atomically (the weights, with external_data as in
PyTorch 2.13, in one ``<file>.data`` blob beside it, written first) or to a binary file object."""
from __future__ import annotations

import os

from ..serialization import atomic_write
from .export_graph import ExportError

_EXTERNAL_THRESHOLD = 1024  # bytes: smaller initializers stay inside the .onnx file


def write(onnx, proto, f, external_data):
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        if external_data:
            data = _move_weights_out(onnx, proto, os.path.basename(path) + ".data")
            if data is not None:
                atomic_write(path + ".data", data)
        _check_size(proto)
        atomic_write(path, proto.SerializeToString())
    elif hasattr(f, "write"):
        _check_size(proto)
        f.write(proto.SerializeToString())
    else:
        raise TypeError(f"ember.onnx.export: f must be a path or a binary file object, got "
                        f"{type(f).__name__}")


def _check_size(proto):
    if proto.ByteSize() >= 2 ** 31:
        raise ExportError("ember.onnx.export: the model is over ONNX's 2 GB limit for one file; "
                          "export to a path with external_data=True")


def _move_weights_out(onnx, proto, location):
    """Moves the larger initializers' bytes into one external data blob (ONNX's external data
    format, as PyTorch's exporter writes it); returns the blob, or None if none moved."""
    chunks, offset = [], 0
    for tensor in proto.graph.initializer:
        raw = tensor.raw_data
        if len(raw) < _EXTERNAL_THRESHOLD:
            continue
        onnx.external_data_helper.set_external_data(tensor, location, offset, len(raw))
        tensor.data_location = onnx.TensorProto.EXTERNAL
        tensor.ClearField("raw_data")
        chunks.append(raw)
        offset += len(raw)
    return b"".join(chunks) if chunks else None
