"""One ONNX node as the operator builders see it: where it is (for messages), its inputs and
outputs, its opset version and its attributes read with their types checked."""
from __future__ import annotations

# AttributeProto.AttributeType values (fixed by onnx.proto)
FLOAT, INT, STRING, TENSOR, GRAPH, FLOATS, INTS, STRINGS = 1, 2, 3, 4, 5, 6, 7, 8
TYPE_NAMES = {FLOAT: "float", INT: "int", STRING: "string", TENSOR: "tensor", GRAPH: "graph",
              FLOATS: "floats", INTS: "ints", STRINGS: "strings", 9: "tensors", 10: "graphs",
              11: "sparse_tensor", 12: "sparse_tensors", 13: "type_proto", 14: "type_protos"}
_MISSING = object()


class NodeInfo:
    def __init__(self, proto, index: int, source: str, version: int, to_array):
        self.op_type = proto.op_type
        self.name = proto.name or f"#{index}"
        self.source = source  # the file's name, for messages
        self.version = version  # the version of op_type in force at the model's opset
        self.inputs = list(proto.input)  # "" marks an optional input left out
        self.outputs = list(proto.output)
        self.attrs = {a.name: a for a in proto.attribute}
        self._to_array = to_array  # TensorProto -> np.ndarray, with the loader's checks

    @property
    def where(self) -> str:
        return f"ember.onnx.load: {self.source}: node {self.name!r} ({self.op_type})"

    def error(self, message: str) -> ValueError:
        return ValueError(f"{self.where}: {message}")

    def unsupported(self, message: str) -> NotImplementedError:
        return NotImplementedError(f"{self.where}: {message} is not supported by ember")

    def wants_output(self, index: int) -> bool:
        return index < len(self.outputs) and self.outputs[index] != ""

    def has_input(self, index: int) -> bool:
        return index < len(self.inputs) and self.inputs[index] != ""

    def _get(self, name: str, kind: int, default):
        attr = self.attrs.get(name)
        if attr is None:
            if default is _MISSING:
                raise self.error(f"the required attribute {name!r} is missing")
            return default
        if attr.type != kind:
            raise self.error(f"attribute {name!r} must be of type {TYPE_NAMES[kind]}, got "
                             f"{TYPE_NAMES.get(attr.type, attr.type)}")
        return attr

    def int(self, name: str, default=_MISSING) -> int:
        attr = self._get(name, INT, default)
        return attr if attr is default else int(attr.i)

    def float(self, name: str, default=_MISSING) -> float:
        attr = self._get(name, FLOAT, default)
        return attr if attr is default else float(attr.f)

    def string(self, name: str, default=_MISSING) -> str:
        attr = self._get(name, STRING, default)
        if attr is default:
            return attr
        try:
            return attr.s.decode("utf-8")
        except UnicodeDecodeError:
            raise self.error(f"attribute {name!r} is not valid UTF-8") from None

    def ints(self, name: str, default=_MISSING) -> list:
        attr = self._get(name, INTS, default)
        return attr if attr is default else [int(v) for v in attr.ints]

    def floats(self, name: str, default=_MISSING) -> list:
        attr = self._get(name, FLOATS, default)
        return attr if attr is default else [float(v) for v in attr.floats]

    def strings(self, name: str, default=_MISSING) -> list:
        attr = self._get(name, STRINGS, default)
        if attr is default:
            return attr
        try:
            return [s.decode("utf-8") for s in attr.strings]
        except UnicodeDecodeError:
            raise self.error(f"attribute {name!r} is not valid UTF-8") from None

    def tensor(self, name: str, default=_MISSING):
        attr = self._get(name, TENSOR, default)
        return attr if attr is default else self._to_array(attr.t, f"{self.where}: attribute "
                                                                   f"{name!r}")
