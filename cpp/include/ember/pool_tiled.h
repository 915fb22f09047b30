// Max pooling whose windows tile the input: stride == kernel, no padding, no dilation, every
// window inside the input (MaxPool2d(2), MaxPooling2D(2), MaxPool1d(k)). Each input element
// then belongs to at most one window, so the kernels run as straight vector loops, and the
// backward pass finds each window's maximum again from the input instead of reading saved
// indices: no index array is written or read, and every gradient element is written once.
// Same maxima, indices and NaN rule as the general kernels in pool.cpp.
#pragma once
#include "ember/pool.h"

namespace ember {

bool windows_tile(const PoolShape& s);

// indices may be null (not wanted).
template <class T>
void max_pool2d_forward_tiled(const PoolShape& s, const T* input, T* output, int64_t* indices);
// grad_input = the gradient for output grad_output of max pooling `input` over tiling windows.
template <class T>
void max_pool2d_backward_tiled(const PoolShape& s, const T* grad_output, const T* input,
                               T* grad_input);

}  // namespace ember
