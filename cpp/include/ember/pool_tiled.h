// Max pooling whose windows tile the input: stride == kernel, no padding, no dilation, every
// window inside the input (MaxPool2d(2), MaxPooling2D(2), MaxPool1d(k)). Each input element
// then belongs to at most one window, so the kernels run as straight vector loops with no
// bounds checks and backward writes every gradient element once (no zero-fill, no scatter).
// Same results, indices and NaN rule as the general kernels in pool.cpp.
#pragma once
#include "ember/pool.h"

namespace ember {

bool windows_tile(const PoolShape& s);

template <class T>
void max_pool2d_forward_tiled(const PoolShape& s, const T* input, T* output, int64_t* indices);
// Returns how many of the indices lay inside their own window. Only when that is all of them
// is grad_input the gradient (then it equals the general kernel's scatter); otherwise the
// caller runs the general kernel, which also handles indices pointing anywhere in the plane.
template <class T>
int64_t max_pool2d_backward_tiled(const PoolShape& s, const T* grad_output,
                                  const int64_t* indices, T* grad_input);

}  // namespace ember
