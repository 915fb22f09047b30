// In-place optimizer updates with PyTorch's exact formulas (torch.optim, single-tensor path).
#pragma once
#include <cstdint>

namespace ember {

struct SgdOptions {
  double lr, momentum, dampening, weight_decay;
  bool nesterov, maximize;
};
// momentum_buffer is null when momentum == 0; init_buffer copies the gradient into it (first step).
template <class T>
void sgd_step(const SgdOptions& o, T* param, const T* grad, T* momentum_buffer, bool init_buffer,
              int64_t n);

struct AdamOptions {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled_weight_decay;  // AdamW
  bool amsgrad, maximize;
  double bias_correction1, bias_correction2;  // 1 - beta^step, computed by the caller
};
// max_exp_avg_sq is null unless amsgrad.
template <class T>
void adam_step(const AdamOptions& o, T* param, const T* grad, T* exp_avg, T* exp_avg_sq,
               T* max_exp_avg_sq, int64_t n);

struct RmspropOptions {
  double lr, alpha, eps, weight_decay, momentum;
  bool centered, maximize;
};
// momentum_buffer is null unless momentum > 0; grad_avg is null unless centered.
template <class T>
void rmsprop_step(const RmspropOptions& o, T* param, const T* grad, T* square_avg,
                  T* momentum_buffer, T* grad_avg, int64_t n);

struct AdagradOptions {
  double clr;  // lr / (1 + (step - 1) * lr_decay), computed by the caller
  double weight_decay, eps;
  bool maximize;
};
template <class T>
void adagrad_step(const AdagradOptions& o, T* param, const T* grad, T* state_sum, int64_t n);

}  // namespace ember
