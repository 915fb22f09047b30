// 2-D convolution (1-D is height 1) by im2col + Eigen GEMM, for NCHW or NHWC activations; 3x3
// stride-1 layers of 16+ channels by Winograd (conv_winograd.h), one-channel inputs directly
// (conv_direct.h).
#pragma once
#include <cstdint>

namespace ember {

// Geometry of a grouped, strided, dilated, padded convolution over a batch. The weight is
// always PyTorch's (c_out, c_in / groups, kh, kw); activations are NCHW, or NHWC when
// channels_last (Keras). Padding may differ on each side ("same" with even kernels).
struct ConvShape {
  int64_t n, c_in, h, w;
  int64_t c_out, kh, kw, groups;
  int64_t stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  bool channels_last;

  int64_t out_h() const {
    return (h + pad_top + pad_bottom - dilation_h * (kh - 1) - 1) / stride_h + 1;
  }
  int64_t out_w() const {
    return (w + pad_left + pad_right - dilation_w * (kw - 1) - 1) / stride_w + 1;
  }
};

// output = conv(input, weight) + bias, then max(output, 0) where `relu` (a fused activation:
// the epilogue of each chunk's product, while it is in cache). bias may be null.
template <class T>
void conv2d_forward(const ConvShape& s, const T* input, const T* weight, const T* bias, T* output,
                    bool relu);

// All gradients in one pass over grad_output (ATen's convolution_backward with its output
// mask): each chunk of samples' grad_output block is brought into cache once, masked by
// relu_output > 0 when the forward fused a ReLU (relu_output is then that forward's output,
// else null), and feeds the bias, weight and input gradients. A null gradient pointer is not
// computed. Sums run in a fixed chunk order, so results do not depend on the thread count.
template <class T>
void conv2d_backward(const ConvShape& s, const T* grad_output, const T* input, const T* weight,
                     const T* relu_output, T* grad_input, T* grad_weight, T* grad_bias);

}  // namespace ember
