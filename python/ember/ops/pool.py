"""Pooling, computed by the C++ kernels (NCHW, or NHWC when channels_last)."""
from .. import _core
from ..autograd import Function
from ..tensor import Tensor


class MaxPool2d(Function):
    """`geometry` is the kernel's (kernel_size, stride, padding, dilation, output_size,
    channels_last), one argument as Conv2d's; `indices_sink`, if given, is a list that receives
    the argmax indices (return_indices)."""

    new_grads = True

    def forward(self, x, geometry, indices_sink=None):
        # Windows that tile the input (stride == kernel, no padding or dilation): the kernel
        # returns no indices unless asked, and backward finds the maxima again in the input.
        y, self.indices = _core.max_pool2d_forward(x, *geometry, indices_sink is not None)
        self.channels_last = geometry[-1]
        if self.indices is None:  # the tiled kernels ran
            self.x, self.kernel_size = x, tuple(geometry[0])
        else:
            self.input_shape = x.shape
        if indices_sink is not None:
            indices_sink.append(self.indices)
        return y

    @staticmethod
    def infer(x, geometry):
        """The output without a graph (as Conv2d.infer)."""
        return Tensor._from_op(_core.max_pool2d_forward(x._array, *geometry, False)[0], None)

    def backward(self, g):
        if self.indices is None:
            return (_core.max_pool2d_tiled_backward(g, self.x, self.kernel_size,
                                                    self.channels_last),)
        return (_core.max_pool2d_backward(g, self.indices, self.input_shape, self.channels_last),)


class AdaptiveMaxPool2d(MaxPool2d):
    def forward(self, x, output_size, channels_last, indices_sink=None):
        y, self.indices = _core.adaptive_max_pool2d_forward(x, output_size, channels_last)
        self.input_shape, self.channels_last = x.shape, channels_last
        if indices_sink is not None:
            indices_sink.append(self.indices)
        return y


class AvgPool2d(Function):
    new_grads = True

    def forward(self, x, kernel_size, stride, padding, output_size, count_include_pad,
                divisor_override, channels_last):
        self.input_shape = x.shape
        self.args = (kernel_size, stride, padding, count_include_pad, divisor_override,
                     channels_last)
        return _core.avg_pool2d_forward(x, kernel_size, stride, padding, output_size,
                                        count_include_pad, divisor_override, channels_last)

    def backward(self, g):
        return (_core.avg_pool2d_backward(g, self.input_shape, *self.args),)


class AdaptiveAvgPool2d(Function):
    new_grads = True

    def forward(self, x, output_size, channels_last):
        self.input_shape, self.channels_last = x.shape, channels_last
        return _core.adaptive_avg_pool2d_forward(x, output_size, channels_last)

    def backward(self, g):
        return (_core.adaptive_avg_pool2d_backward(g, self.input_shape, self.channels_last),)
