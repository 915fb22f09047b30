"""Batch normalization (inference statistics) and layer normalization."""
import numpy as np

from ...ops.norm import BatchNorm, LayerNorm


def _batch_norm(g):
    op, p = g.op, g.op.params
    if p.get("training", True):
        raise g.error("batch statistics (training mode, or track_running_stats=False) have no "
                      "ONNX inference form; put the model in eval mode with running statistics")
    x_shape = g.shape(op.inputs[0])
    channels = x_shape[-1] if p.get("channels_last", False) else x_shape[1]
    dtype = g.dtype(op.inputs[0])
    scale = g.input(1) or g.const(np.ones(channels, dtype))
    bias = g.input(2) or g.const(np.zeros(channels, dtype))
    x = g.input(0)
    rank = len(x_shape)
    to_first = [0, rank - 1] + list(range(1, rank - 1))
    if p.get("channels_last", False):
        x = g.transpose(x, to_first)
    y = g.node("BatchNormalization", [x, scale, bias, g.param("mean"), g.param("var")],
               epsilon=float(p.get("eps", 1e-5)))
    if p.get("relu", False):
        y = g.node("Relu", [y])
    if p.get("channels_last", False):
        y = g.transpose(y, list(np.argsort(to_first)))
    g.bind(0, y)


def _layer_norm(g):
    op = g.op
    if g.opset < 17:
        raise g.error(f"LayerNormalization needs opset_version >= 17 (got {g.opset})")
    cols = g.shape(op.inputs[0])[-1]
    dtype = g.dtype(op.inputs[0])
    scale = g.input(1) or g.const(np.ones(cols, dtype))
    y = g.node("LayerNormalization", [g.input(0), scale, g.input(2)], axis=-1,
               epsilon=float(op.params.get("eps", 1e-5)))
    g.bind(0, y)


EMITTERS = {BatchNorm: _batch_norm, LayerNorm: _layer_norm}
