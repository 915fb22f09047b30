// Direct forward convolution for a single input channel (the first layer of image and signal
// networks: MNIST's 1 x 28 x 28, a 1-D signal). There im2col's column matrix is kh * kw copies
// of the image and its product has an inner dimension of only kh * kw, so the GEMM route spends
// its time moving memory. This kernel keeps a padded copy of one sample in cache and runs vector
// FMAs over it: across output columns for NCHW, across output channels for NHWC. The weight and
// bias gradients (the first layer's input needs none) keep nine taps' sums at a time in vector
// registers over one sample's output positions: NHWC from the padded plane (2x faster than
// im2col + GEMM), NCHW from the sample's im2col rows (~1.25x: Eigen's GEMM with an inner
// dimension of all positions and only kh * kw columns spends its time packing).
#pragma once
#include "ember/conv.h"

namespace ember {

// Single input channel, no groups, stride 1, no dilation.
bool conv2d_direct_applies(const ConvShape& s);

template <class T>
void conv2d_direct_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                           T* output, bool relu);

// grad_weight and/or grad_bias (either may be null); relu_output masks grad_output when given.
template <class T>
void conv2d_direct_backward_params(const ConvShape& s, const T* grad_output, const T* input,
                                   const T* relu_output, T* grad_weight, T* grad_bias);

}  // namespace ember
