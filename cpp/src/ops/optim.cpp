#include "ember/optim.h"

#include <algorithm>
#include <cmath>

#include "ember/parallel.h"

namespace ember {

namespace {
constexpr int64_t kUpdateCost = 8;

// The gradient an optimizer sees: negated when maximizing, plus L2 weight decay.
template <class T>
T effective_grad(T g, T p, T weight_decay, bool maximize) {
  if (maximize) g = -g;
  return g + weight_decay * p;
}
}  // namespace

template <class T>
void sgd_step(const SgdOptions& o, T* param, const T* grad, T* buf, bool init_buffer, int64_t n) {
  const T lr = T(o.lr), mom = T(o.momentum), damp = T(o.dampening), wd = T(o.weight_decay);
  parallel_for(n, kUpdateCost, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T g = effective_grad(grad[i], param[i], wd, o.maximize);
      if (buf) {
        buf[i] = init_buffer ? g : mom * buf[i] + (1 - damp) * g;
        g = o.nesterov ? g + mom * buf[i] : buf[i];
      }
      param[i] -= lr * g;
    }
  });
}

template <class T>
void adam_step(const AdamOptions& o, T* param, const T* grad, T* m, T* v, T* vmax, int64_t n) {
  const T beta1 = T(o.beta1), beta2 = T(o.beta2), eps = T(o.eps);
  const T step_size = T(o.lr / o.bias_correction1);
  const T bc2_sqrt = T(std::sqrt(o.bias_correction2));
  const T wd = o.decoupled_weight_decay ? T(0) : T(o.weight_decay);
  const T decay = o.decoupled_weight_decay ? T(1 - o.lr * o.weight_decay) : T(1);
  parallel_for(n, kUpdateCost, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = effective_grad(grad[i], param[i], wd, o.maximize);
      param[i] *= decay;
      m[i] += (g - m[i]) * (1 - beta1);
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      T second = v[i];
      if (vmax) second = vmax[i] = std::max(vmax[i], v[i]);
      param[i] -= step_size * m[i] / (std::sqrt(second) / bc2_sqrt + eps);
    }
  });
}

template <class T>
void rmsprop_step(const RmspropOptions& o, T* param, const T* grad, T* sq, T* buf, T* gavg,
                  int64_t n) {
  const T lr = T(o.lr), alpha = T(o.alpha), eps = T(o.eps), wd = T(o.weight_decay);
  const T mom = T(o.momentum);
  parallel_for(n, kUpdateCost, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = effective_grad(grad[i], param[i], wd, o.maximize);
      sq[i] = alpha * sq[i] + (1 - alpha) * g * g;
      T avg;
      if (gavg) {
        gavg[i] += (g - gavg[i]) * (1 - alpha);
        avg = std::sqrt(sq[i] - gavg[i] * gavg[i]) + eps;
      } else {
        avg = std::sqrt(sq[i]) + eps;
      }
      if (buf) {
        buf[i] = mom * buf[i] + g / avg;
        param[i] -= lr * buf[i];
      } else {
        param[i] -= lr * g / avg;
      }
    }
  });
}

template <class T>
void adagrad_step(const AdagradOptions& o, T* param, const T* grad, T* sum, int64_t n) {
  const T clr = T(o.clr), eps = T(o.eps), wd = T(o.weight_decay);
  parallel_for(n, kUpdateCost, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = effective_grad(grad[i], param[i], wd, o.maximize);
      sum[i] += g * g;
      param[i] -= clr * g / (std::sqrt(sum[i]) + eps);
    }
  });
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void sgd_step<T>(const SgdOptions&, T*, const T*, T*, bool, int64_t);               \
  template void adam_step<T>(const AdamOptions&, T*, const T*, T*, T*, T*, int64_t);           \
  template void rmsprop_step<T>(const RmspropOptions&, T*, const T*, T*, T*, T*, int64_t);     \
  template void adagrad_step<T>(const AdagradOptions&, T*, const T*, T*, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
