// Matrix products and the linear (fully connected) layer. All matrices are row-major.
#pragma once
#include <cstdint>

#include "ember/activation.h"

namespace ember {

// c[i] = a[i] @ b[i] for i in [0, batch); a[i] is (m, k), b[i] is (k, n), c[i] is (m, n).
template <class T>
void matmul_forward(const T* a, const T* b, T* c, int64_t batch, int64_t m, int64_t k, int64_t n);
// grad_a[i] = grad_output[i] @ b[i]^T
template <class T>
void matmul_backward_a(const T* grad_output, const T* b, T* grad_a, int64_t batch, int64_t m,
                       int64_t k, int64_t n);
// grad_b[i] = a[i]^T @ grad_output[i]
template <class T>
void matmul_backward_b(const T* grad_output, const T* a, T* grad_b, int64_t batch, int64_t m,
                       int64_t k, int64_t n);

// output (n, out) = input (n, in) @ weight (out, in)^T + bias (out); bias may be null.
template <class T>
void linear_forward(const T* input, const T* weight, const T* bias, T* output, int64_t n,
                    int64_t in, int64_t out);
// grad_input (n, in) = grad_output (n, out) @ weight (out, in)
template <class T>
void linear_backward_input(const T* grad_output, const T* weight, T* grad_input, int64_t n,
                           int64_t in, int64_t out);
// grad_weight (out, in) = grad_output^T @ input
template <class T>
void linear_backward_weight(const T* grad_output, const T* input, T* grad_weight, int64_t n,
                            int64_t in, int64_t out);
// grad_bias (out) = column sums of grad_output
template <class T>
void linear_backward_bias(const T* grad_output, T* grad_bias, int64_t n, int64_t out);

// The fused Linear + activation layer, for activations whose derivative is a function of their
// output (relu, sigmoid, tanh: see fuses_with_linear). One call instead of two keeps small
// models' per-layer cost low; the arithmetic is exactly linear_forward's then the activation's.
constexpr bool fuses_with_linear(Activation a) {
  return a == Activation::relu || a == Activation::sigmoid || a == Activation::tanh;
}
// output (n, out) = act(input (n, in) @ weight (out, in)^T + bias (out)); bias may be null.
template <class T>
void linear_activation_forward(Activation kind, const T* input, const T* weight, const T* bias,
                               T* output, int64_t n, int64_t in, int64_t out);
// grad_pre (n, out) = grad_output * act'(pre-activation), computed from `output`; then
// grad_input, grad_weight and grad_bias as linear_backward_* from grad_pre (each may be null).
template <class T>
void linear_activation_backward(Activation kind, const T* grad_output, const T* input,
                                const T* weight, const T* output, T* grad_pre, T* grad_input,
                                T* grad_weight, T* grad_bias, int64_t n, int64_t in, int64_t out);

}  // namespace ember
