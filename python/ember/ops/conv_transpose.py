"""Transposed convolution on the convolution kernels: no second implementation.

A transposed convolution of x by w is the input gradient of the convolution by w whose output
has x's shape. So its forward is conv2d_backward_input, its input gradient is conv2d_forward
of the output gradient, and its weight gradient is conv2d's weight gradient with the roles of
input and grad_output swapped.
"""
import numpy as np

from .. import _core
from ..autograd import Function


class ConvTranspose2d(Function):
    """inputs: (input, weight (c_in, c_out/groups, kH, kW), bias or None); `geometry` is the
    convolution's (stride, padding (top, bottom, left, right), dilation, groups,
    channels_last) and `output_shape` the full output shape (output_padding included)."""

    new_grads = True

    def forward(self, x, weight, bias, geometry, output_shape):
        channels_last = geometry[4]
        # The convolution of an output of this shape has at least x's positions; more when
        # output_padding >= stride (allowed while < dilation): zeros there add nothing.
        x = self._pad_to_conv_output(x, weight, geometry, output_shape)
        self.x, self.weight, self.args = x, weight, geometry
        y = _core.conv2d_backward_input(x, weight, list(output_shape), *geometry)
        if bias is not None:
            y += bias if channels_last else bias[:, None, None]
        return y

    def _pad_to_conv_output(self, x, weight, geometry, output_shape):
        (sh, sw), (pt, pb, pl, pr), (dh, dw), _, channels_last = geometry
        h, w = output_shape[1:3] if channels_last else output_shape[2:]
        conv_h = (h + pt + pb - dh * (weight.shape[2] - 1) - 1) // sh + 1
        conv_w = (w + pl + pr - dw * (weight.shape[3] - 1) - 1) // sw + 1
        in_h, in_w = x.shape[1:3] if channels_last else x.shape[2:]
        self.crop = None
        if (conv_h, conv_w) == (in_h, in_w):
            return x
        extra = ((0, 0), (0, conv_h - in_h), (0, conv_w - in_w))
        extra = extra + ((0, 0),) if channels_last else ((0, 0),) + extra
        self.crop = (slice(None),) + ((slice(0, in_h), slice(0, in_w)) if channels_last else
                                      (slice(None), slice(0, in_h), slice(0, in_w)))
        return np.pad(x, extra)

    def backward(self, g):
        need = self.needs_input_grad
        grad_input = grad_weight = grad_bias = None
        if need[0]:
            grad_input = _core.conv2d_forward(g, self.weight, None, *self.args, False)
            if self.crop is not None:
                grad_input = np.ascontiguousarray(grad_input[self.crop])
        if need[1]:
            _, grad_weight, _ = _core.conv2d_backward(self.x, g, self.weight, *self.args,
                                                      False, True, False)
        if need[2]:
            grad_bias = g.sum(axis=(0, 1, 2) if self.args[4] else (0, 2, 3))
        return grad_input, grad_weight, grad_bias
