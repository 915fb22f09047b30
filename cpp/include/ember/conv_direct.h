// Direct forward convolution for a single input channel (the first layer of image and signal
// networks: MNIST's 1 x 28 x 28, a 1-D signal). There im2col's column matrix is kh * kw copies
// of the image and its product has an inner dimension of only kh * kw, so the GEMM route spends
// its time moving memory. This kernel keeps a padded copy of one sample in cache and runs vector
// FMAs over it: across output columns for NCHW, across output channels for NHWC. (The weight
// gradient stays a GEMM: its inner dimension is the batch's output positions. A direct version
// measured 2-3x slower.)
#pragma once
#include "ember/conv.h"

namespace ember {

// Single input channel, no groups, stride 1, no dilation.
bool conv2d_direct_applies(const ConvShape& s);

template <class T>
void conv2d_direct_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                           T* output, bool relu);

}  // namespace ember
