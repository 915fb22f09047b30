"""Padding of the trailing dimensions: constant (negative pads crop), reflect, replicate,
circular (ONNX Pad's constant, reflect, edge and wrap modes; wrap needs opset 19)."""
from ...ops.pad import ConstantPad, IndexPad

_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pads(g):
    """ONNX's pads (all begins, then all ends) for ember's ((before, after), ...) of the last
    dimensions."""
    rank = len(g.shape(g.op.inputs[0]))
    pairs = [(0, 0)] * (rank - len(g.op.params["pads"])) + list(g.op.params["pads"])
    return [int(b) for b, _ in pairs] + [int(a) for _, a in pairs]


def _constant_pad(g):
    dtype = g.dtype(g.op.inputs[0])
    value = g.scalar(g.op.params.get("value", 0.0), dtype)
    g.bind(0, g.node("Pad", [g.input(0), g.ints(_pads(g)), value], mode="constant"))


def _index_pad(g):
    mode = _MODES[g.op.params["mode"]]
    if mode == "wrap" and g.opset < 19:
        raise g.error(f"circular padding needs opset_version >= 19 (got {g.opset})")
    if any(p < 0 for p in _pads(g)):
        raise g.error("negative padding")
    g.bind(0, g.node("Pad", [g.input(0), g.ints(_pads(g))], mode=mode))


EMITTERS = {ConstantPad: _constant_pad, IndexPad: _index_pad}
