// Winograd F(2x2, 3x3) for 3x3, stride-1, undilated, ungrouped NHWC convolutions. Each 2x2
// block of outputs (a tile) comes from its 4x4 input window in a transformed space where the
// 3x3 convolution is 16 independent element-wise products summed over input channels: 16 GEMMs
// of (tiles, c_in) by (c_in, c_out) instead of one of (positions, 9 c_in) by (9 c_in, c_out),
// 2.25x fewer multiplications. F(2x2, 3x3)'s transforms have coefficients 0, +-1 and 1/2 only,
// so float32 results stay as accurate as im2col's to within a small factor.
#pragma once
#include "ember/conv.h"

namespace ember {

// Whether conv2d_forward / conv2d_backward (conv.cpp) take this path for a geometry: NHWC
// (NCHW runs as NHWC between transposes), a 3x3 kernel, stride 1, no dilation, one group, and
// enough channels on both sides for the 16 products to pay for the transforms.
bool conv2d_winograd_applies(const ConvShape& s);

// conv2d_forward's contract, for geometries conv2d_winograd_applies to.
template <class T>
void conv2d_winograd_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                             T* output, bool relu);

// conv2d_backward's contract (every requested gradient is written in full), for geometries
// conv2d_winograd_applies to. The weight and bias gradients are summed per fixed block of
// samples and the blocks added in order, so results do not depend on the thread count.
template <class T>
void conv2d_winograd_backward(const ConvShape& s, const T* grad_output, const T* input,
                              const T* weight, const T* relu_output, T* grad_input,
                              T* grad_weight, T* grad_bias);

}  // namespace ember
