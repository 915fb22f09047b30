"""Convolution, computed by the C++ im2col + GEMM kernels (NCHW, or NHWC when channels_last)."""
from .. import _core
from ..autograd import Function
from ..tensor import Tensor, array_or_none


class Conv2d(Function):
    """inputs: (input, weight, bias or None); `geometry` is the kernels' (stride, padding (top,
    bottom, left, right), dilation, groups, channels_last), one argument: keyword arguments
    cost a layer call more than their number suggests. With relu the kernel applies max(., 0)
    to its output, and backward masks by that output."""

    new_grads = True

    def forward(self, x, weight, bias, geometry, relu=False):
        self.x, self.weight, self.args = x, weight, geometry
        y = _core.conv2d_forward(x, weight, bias, *geometry, relu)
        self.relu_output = y if relu else None
        return y

    @staticmethod
    def infer(x, weight, bias, geometry, relu=False):
        """The output without a graph (no gradient recording): the kernel on the arrays, with
        no node and none of apply's calling cost, which batch-1 inference feels."""
        return Tensor._from_op(_core.conv2d_forward(x._array, weight._array, array_or_none(bias),
                                                    *geometry, relu), None)

    def backward(self, g):
        need = self.needs_input_grad
        return _core.conv2d_backward(g, self.x, self.weight, *self.args, need[0], need[1], need[2],
                                     self.relu_output)
