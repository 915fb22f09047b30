"""Pooling: MaxPool, AveragePool and the global pools (channels-first in ONNX; a channels_last
input is transposed around them as in conv.py)."""
from ...ops.pool import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from .conv import TO_NCHW, TO_NHWC


def _ceil_mode(g, size, kernel, stride, pad_total, dilation, out):
    """ONNX's ceil_mode (0 or 1) giving `out` for one spatial axis of `size`."""
    span = size + pad_total - dilation * (kernel - 1) - 1
    if span // stride + 1 == out:
        return 0
    if -(-span // stride) + 1 == out:
        return 1
    raise g.error(f"the pooled size {out} (input {size}, kernel {kernel}, stride {stride}) "
                  "matches neither of ONNX's rounding modes")


def _spatial(shape, channels_last):
    return tuple(shape[1:3] if channels_last else shape[2:4])


def _pool(g, op_type, kernel, stride, pads, dilation, channels_last, **attrs):
    op = g.op
    x = g.input(0)
    ceil = 0
    for shape, run in ((g.shape(op.inputs[0]), op), (g.twin_shape(op.inputs[0]), g.twin_op)):
        out = _out_size(run)
        for axis in range(2):
            ceil |= _ceil_mode(g, _spatial(shape, channels_last)[axis], kernel[axis],
                               stride[axis], pads[axis] + pads[axis + 2], dilation[axis],
                               out[axis])
    if channels_last:
        x = g.transpose(x, TO_NCHW)
    y = g.node(op_type, [x], kernel_shape=[int(k) for k in kernel],
               strides=[int(s) for s in stride], pads=[int(p) for p in pads],
               ceil_mode=ceil, **attrs)
    g.bind(0, g.transpose(y, TO_NHWC) if channels_last else y)


def _out_size(op):
    if op.kind is MaxPool2d:
        return op.params["geometry"][4]
    return op.params["output_size"]


def _max_pool(g):
    if g.op.params.get("indices_sink") is not None:
        raise g.error("return_indices=True has no ONNX mapping in ember")
    kernel, stride, (pt, pb, pl, pr), dilation, _, channels_last = g.op.params["geometry"]
    dilations = [int(d) for d in dilation]
    _pool(g, "MaxPool", kernel, stride, (pt, pl, pb, pr), dilation, channels_last,
          dilations=dilations if any(d != 1 for d in dilations) else None)


def _avg_pool(g):
    p = g.op.params
    if p["divisor_override"]:
        raise g.error("divisor_override has no ONNX mapping")
    pt, pb, pl, pr = p["padding"]
    _pool(g, "AveragePool", p["kernel_size"], p["stride"], (pt, pl, pb, pr), (1, 1),
          p["channels_last"],
          count_include_pad=int(bool(p["count_include_pad"])))


def _adaptive(op_type):
    global_type = "Global" + op_type

    def emit(g):
        op = g.op
        if op.params.get("indices_sink") is not None:
            raise g.error("return_indices=True has no ONNX mapping in ember")
        channels_last = op.params["channels_last"]
        out = tuple(int(s) for s in op.params["output_size"])
        x = g.input(0)
        size = _spatial(g.shape(op.inputs[0]), channels_last)
        twin_size = _spatial(g.twin_shape(op.inputs[0]), channels_last)
        if channels_last:
            x = g.transpose(x, TO_NCHW)
        if out == (1, 1):
            y = g.node(global_type, [x])
        elif size == twin_size and all(n % o == 0 for n, o in zip(size, out)):
            kernel = [n // o for n, o in zip(size, out)]
            y = g.node(op_type, [x], kernel_shape=kernel, strides=kernel)
        else:
            raise g.error(f"adaptive pooling of input size {size} to {out} is a fixed ONNX "
                          "pool only when the output size divides a fixed input size")
        g.bind(0, g.transpose(y, TO_NHWC) if channels_last else y)

    return emit


EMITTERS = {MaxPool2d: _max_pool, AvgPool2d: _avg_pool,
            AdaptiveAvgPool2d: _adaptive("AveragePool"),
            AdaptiveMaxPool2d: _adaptive("MaxPool")}
