// 2-D pooling (1-D pooling is height 1) over NCHW or NHWC activations.
#pragma once
#include <cstdint>

namespace ember {

// Window geometry. Output sizes come from the caller (they depend on ceil_mode). Padding may
// differ on each side; max pooling pads with -inf, average pooling as count_include_pad says.
struct PoolShape {
  int64_t n, c, h, w, out_h, out_w;
  int64_t kh, kw, stride_h, stride_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
  int64_t dilation_h, dilation_w;
  bool channels_last;
};

// indices[o] is the flat position y * w + x, within its (n, c) plane, of the maximum (PyTorch's
// return_indices convention). NaN wins, as in PyTorch.
template <class T>
void max_pool2d_forward(const PoolShape& s, const T* input, T* output, int64_t* indices);
// Scatters grad_output to the recorded positions (max pooling and adaptive max pooling).
template <class T>
void max_pool2d_backward(const PoolShape& s, const T* grad_output, const int64_t* indices,
                         T* grad_input);

// divisor_override <= 0 means none.
template <class T>
void avg_pool2d_forward(const PoolShape& s, bool count_include_pad, int64_t divisor_override,
                        const T* input, T* output);
template <class T>
void avg_pool2d_backward(const PoolShape& s, bool count_include_pad, int64_t divisor_override,
                         const T* grad_output, T* grad_input);

// Adaptive pooling: output cell o covers [floor(o * in / out), ceil((o + 1) * in / out)).
// Only n, c, h, w, out_h, out_w and channels_last of the shape are used.
template <class T>
void adaptive_avg_pool2d_forward(const PoolShape& s, const T* input, T* output);
template <class T>
void adaptive_avg_pool2d_backward(const PoolShape& s, const T* grad_output, T* grad_input);
template <class T>
void adaptive_max_pool2d_forward(const PoolShape& s, const T* input, T* output,
                                 int64_t* indices);

}  // namespace ember
