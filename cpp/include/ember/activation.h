// Elementwise activations and the softmax family.
#pragma once
#include <cstdint>

namespace ember {

enum class Activation { relu, leaky_relu, elu, gelu, gelu_tanh, sigmoid, tanh, softplus };

// alpha: leaky_relu's negative_slope, elu's alpha, softplus' beta; beta: softplus' threshold.
struct ActivationParams {
  double alpha = 0, beta = 0;
};

// True when the backward pass reads the forward output (sigmoid, tanh) instead of the input.
constexpr bool backward_uses_output(Activation a) {
  return a == Activation::sigmoid || a == Activation::tanh;
}

template <class T>
void activation_forward(Activation kind, const T* input, T* output, int64_t n, ActivationParams p);
// `saved` is the forward output when backward_uses_output(kind), else the forward input.
template <class T>
void activation_backward(Activation kind, const T* grad_output, const T* saved, T* grad_input,
                         int64_t n, ActivationParams p);

// The softmax axis has length `dim`; `outer` blocks before it and `inner` elements after it.
template <class T>
void softmax_forward(const T* input, T* output, int64_t outer, int64_t dim, int64_t inner);
template <class T>
void log_softmax_forward(const T* input, T* output, int64_t outer, int64_t dim, int64_t inner);
template <class T>
void softmax_backward(const T* grad_output, const T* output, T* grad_input, int64_t outer,
                      int64_t dim, int64_t inner);
template <class T>
void log_softmax_backward(const T* grad_output, const T* output, T* grad_input, int64_t outer,
                          int64_t dim, int64_t inner);

}  // namespace ember
