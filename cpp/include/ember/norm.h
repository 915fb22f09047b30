// Batch normalization (per channel over batch and positions) and layer normalization (per row).
#pragma once
#include <cstdint>

namespace ember {

// Activations viewed as (n, c, s): channels first, or (n, s, c) when channels_last.
struct ChannelShape {
  int64_t n, c, s;
  bool channels_last;
};

// Training mode: normalizes with the batch statistics and returns them (mean and the biased
// variance per channel). weight/bias may be null (affine=False). fuse_relu applies ReLU to the
// output in the same pass.
template <class T>
void batch_norm_forward_train(const ChannelShape& shape, const T* input, const T* weight,
                              const T* bias, double eps, bool fuse_relu, T* output, T* mean,
                              T* var);
// Eval mode: normalizes with the given statistics.
template <class T>
void batch_norm_forward_eval(const ChannelShape& shape, const T* input, const T* mean,
                             const T* var, const T* weight, const T* bias, double eps,
                             bool fuse_relu, T* output);
// grad_weight/grad_bias may be null. `training` says whether mean/invstd were batch statistics
// (their dependence on the input is then part of the gradient). relu_output is the forward's
// output when ReLU was fused into it (the gradient passes where it is positive), else null.
template <class T>
void batch_norm_backward(const ChannelShape& shape, const T* grad_output, const T* input,
                         const T* mean, const T* invstd, const T* weight, const T* relu_output,
                         bool training, T* grad_input, T* grad_weight, T* grad_bias);

// Normalizes each of `rows` rows of `cols` elements; weight/bias (cols) may be null.
template <class T>
void layer_norm_forward(int64_t rows, int64_t cols, const T* input, const T* weight, const T* bias,
                        double eps, T* output, T* mean, T* invstd);
template <class T>
void layer_norm_backward(int64_t rows, int64_t cols, const T* grad_output, const T* input,
                         const T* mean, const T* invstd, const T* weight, T* grad_input,
                         T* grad_weight, T* grad_bias);

}  // namespace ember
