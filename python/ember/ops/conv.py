"""Convolution, computed by the C++ im2col + GEMM kernels (NCHW, or NHWC when channels_last)."""
from .. import _core
from ..autograd import Function


class Conv2d(Function):
    """inputs: (input, weight, bias or None); padding is (top, bottom, left, right). With relu
    the kernel applies max(., 0) to its output, and backward masks by that output."""

    def forward(self, x, weight, bias, stride, padding, dilation, groups, channels_last,
                relu=False):
        self.x, self.weight = x, weight
        self.args = (stride, padding, dilation, groups, channels_last)
        y = _core.conv2d_forward(x, weight, bias, *self.args, relu)
        self.relu_output = y if relu else None
        return y

    def backward(self, g):
        need = self.needs_input_grad
        return _core.conv2d_backward(g, self.x, self.weight, *self.args, need[0], need[1], need[2],
                                     self.relu_output)
