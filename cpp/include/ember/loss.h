// Loss functions. Reductions follow PyTorch: none, mean, sum (its enum values 0, 1, 2).
#pragma once
#include <cstdint>

namespace ember {

enum class Reduction { none = 0, mean = 1, sum = 2 };

// Losses computed element by element from (input, target) and an optional per-element weight.
// param: huber's delta, smooth_l1's beta.
enum class PointwiseLoss { mse, l1, huber, smooth_l1, bce, bce_with_logits };

struct PointwiseLossArgs {
  PointwiseLoss kind;
  double param = 0;
  const void* weight = nullptr;      // same shape as input, or null
  const void* pos_weight = nullptr;  // bce_with_logits only: same shape as input, or null
};

// Writes the per-element losses to `losses` (n elements).
template <class T>
void pointwise_loss_forward(const PointwiseLossArgs& a, const T* input, const T* target, T* losses,
                            int64_t n);
// grad_input[i] = grad_output[i * grad_stride] * scale * dloss_i/dinput_i.
// grad_stride is 0 when the loss was reduced to one number.
template <class T>
void pointwise_loss_backward(const PointwiseLossArgs& a, const T* grad_output, int64_t grad_stride,
                             T scale, const T* input, const T* target, T* grad_input, int64_t n);

// Sum of n values, in an order that does not depend on the thread count.
template <class T>
double deterministic_sum(const T* values, int64_t n);

// Options shared by the class-index losses (cross_entropy, nll_loss).
template <class T>
struct ClassLossArgs {
  const T* weight = nullptr;  // per class (c), or null for all ones
  int64_t ignore_index = -100;
  double label_smoothing = 0;
};

// Cross-entropy of logits (n, c) against class indices, fused with log-softmax.
// Writes log_probs (n, c), per-sample losses (n) and per-sample weights w[target] (0 if ignored).
template <class T>
void cross_entropy_forward(const ClassLossArgs<T>& a, const T* logits, const int64_t* target,
                           T* log_probs, T* losses, T* sample_weights, int64_t n, int64_t c);
// grad_logits[i, :] = grad_output[i * grad_stride] * scale * dloss_i/dlogits_i
template <class T>
void cross_entropy_backward(const ClassLossArgs<T>& a, const T* grad_output, int64_t grad_stride,
                            T scale, const T* log_probs, const int64_t* target, T* grad_logits,
                            int64_t n, int64_t c);

// Cross-entropy of logits (n, c) against class probabilities (n, c).
template <class T>
void cross_entropy_probs_forward(const ClassLossArgs<T>& a, const T* logits, const T* target,
                                 T* log_probs, T* losses, int64_t n, int64_t c);
template <class T>
void cross_entropy_probs_backward(const ClassLossArgs<T>& a, const T* grad_output,
                                  int64_t grad_stride, T scale, const T* log_probs,
                                  const T* target, T* grad_logits, int64_t n, int64_t c);

// Negative log-likelihood of log-probabilities (n, c) against class indices.
template <class T>
void nll_loss_forward(const ClassLossArgs<T>& a, const T* log_probs, const int64_t* target,
                      T* losses, T* sample_weights, int64_t n, int64_t c);
template <class T>
void nll_loss_backward(const ClassLossArgs<T>& a, const T* grad_output, int64_t grad_stride,
                       T scale, const int64_t* target, T* grad_input, int64_t n, int64_t c);

}  // namespace ember
