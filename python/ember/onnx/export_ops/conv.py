"""Convolutions: ONNX Conv and ConvTranspose, which are channels-first; a channels_last input
(the Keras face) is transposed to NCHW and the result back, so the graph keeps Keras' layout."""
from ...ops.conv import Conv2d
from ...ops.conv_transpose import ConvTranspose2d

TO_NCHW, TO_NHWC = [0, 3, 1, 2], [0, 2, 3, 1]


def _geometry(g):
    (sh, sw), (pt, pb, pl, pr), (dh, dw), groups, channels_last = g.op.params["geometry"]
    return dict(strides=[int(sh), int(sw)], pads=[int(pt), int(pl), int(pb), int(pr)],
                dilations=[int(dh), int(dw)], group=int(groups)), bool(channels_last)


def _conv(g):
    attrs, channels_last = _geometry(g)
    w = g.input(1)
    kernel = g.shape_of(g.op.inputs[1])[2:]
    x = g.input(0)
    if channels_last:
        x = g.transpose(x, TO_NCHW)
    y = g.node("Conv", [x, w, g.input(2)], kernel_shape=[int(k) for k in kernel], **attrs)
    if g.op.params.get("relu", False):
        y = g.node("Relu", [y])
    g.bind(0, g.transpose(y, TO_NHWC) if channels_last else y)


def _conv_transpose(g):
    attrs, channels_last = _geometry(g)
    op = g.op
    weight_shape = g.shape_of(op.inputs[1])
    x_shape, out_shape = g.shape(op.inputs[0]), op.params["output_shape"]
    (h, w_) = (x_shape[1:3] if channels_last else x_shape[2:])
    (oh, ow) = (out_shape[1:3] if channels_last else out_shape[2:])
    (sh, sw), (dh, dw) = attrs["strides"], attrs["dilations"]
    pt, pl, pb, pr = attrs["pads"]
    kh, kw = weight_shape[2:]
    output_padding = [int(oh - ((h - 1) * sh - pt - pb + dh * (kh - 1) + 1)),
                      int(ow - ((w_ - 1) * sw - pl - pr + dw * (kw - 1) + 1))]
    x = g.input(0)
    if channels_last:
        x = g.transpose(x, TO_NCHW)
    y = g.node("ConvTranspose", [x, g.input(1), g.input(2)], kernel_shape=[int(kh), int(kw)],
               output_padding=output_padding if any(output_padding) else None, **attrs)
    g.bind(0, g.transpose(y, TO_NHWC) if channels_last else y)


EMITTERS = {Conv2d: _conv, ConvTranspose2d: _conv_transpose}
