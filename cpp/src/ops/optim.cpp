#include "ember/optim.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ember/parallel.h"

namespace ember {

// Parameters and their states never overlap (bind_optim gives each its own array); saying so
// lets the update loops vectorize.
#define EMBER_RESTRICT __restrict__

namespace {
constexpr int64_t kUpdateCost = 8;

// The gradient an optimizer sees: negated when maximizing (sign = -1), plus L2 weight decay
// when there is any. Without decay the parameter is not read: 0 * p would cost time and turn
// an infinite parameter's gradient into NaN, where PyTorch skips the term.
template <bool kDecay, class T>
T effective_grad(T g, T p, T weight_decay, T sign) {
  if constexpr (kDecay) return sign * g + weight_decay * p;
  else return sign * g;
}

// Calls body(std::bool_constant<flag>{}...) for the run-time flags, so loops can test them
// with `if constexpr`: a per-element branch on a loop-invariant option would stop GCC from
// vectorizing them.
template <class Body>
void with_flags(const Body& body) {
  body();
}
template <class Body, class... Rest>
void with_flags(const Body& body, bool flag, Rest... rest) {
  auto bind = [&](auto constant) {
    with_flags([&](auto... constants) { body(constant, constants...); }, rest...);
  };
  if (flag) bind(std::true_type{});
  else bind(std::false_type{});
}
}  // namespace

template <class T>
void sgd_step(const SgdOptions& o, T* param, const T* grad, T* buf, bool init_buffer, int64_t n) {
  const T lr = T(o.lr), mom = T(o.momentum), damp = T(o.dampening), wd = T(o.weight_decay);
  const T sign = o.maximize ? T(-1) : T(1);
  const bool nesterov = o.nesterov;
  with_flags([&](auto has_buffer, auto decays) {
    parallel_for(n, kUpdateCost, [=](int64_t b, int64_t e) {
      T* EMBER_RESTRICT p = param;
      const T* EMBER_RESTRICT gr = grad;
      T* EMBER_RESTRICT mb = buf;
      for (int64_t i = b; i < e; ++i) {
        T g = effective_grad<decays>(gr[i], p[i], wd, sign);
        if constexpr (has_buffer) {
          mb[i] = init_buffer ? g : mom * mb[i] + (1 - damp) * g;
          g = nesterov ? g + mom * mb[i] : mb[i];
        }
        p[i] -= lr * g;
      }
    });
  }, buf != nullptr, wd != 0);
}

template <class T>
void adam_step(const AdamOptions& o, T* param, const T* grad, T* m, T* v, T* vmax, int64_t n) {
  const T beta1 = T(o.beta1), beta2 = T(o.beta2), eps = T(o.eps);
  const T step_size = T(o.lr / o.bias_correction1);
  // sqrt(v) / sqrt(bc2) as a product with the reciprocal: a division per element is the
  // update's costliest instruction, and this one differs from PyTorch's by at most an ulp.
  const T inv_bc2_sqrt = T(1 / std::sqrt(o.bias_correction2));
  const T wd = o.decoupled_weight_decay ? T(0) : T(o.weight_decay);
  const T decay = o.decoupled_weight_decay ? T(1 - o.lr * o.weight_decay) : T(1);
  const T sign = o.maximize ? T(-1) : T(1);
  with_flags([&](auto amsgrad, auto decays) {
    parallel_for(n, kUpdateCost, [=](int64_t b, int64_t e) {
      T* EMBER_RESTRICT p = param;
      const T* EMBER_RESTRICT gr = grad;
      T* EMBER_RESTRICT m1 = m;
      T* EMBER_RESTRICT m2 = v;
      T* EMBER_RESTRICT m2max = vmax;
      for (int64_t i = b; i < e; ++i) {
        const T g = effective_grad<decays>(gr[i], p[i], wd, sign);
        if constexpr (decays) p[i] *= decay;
        m1[i] += (g - m1[i]) * (1 - beta1);
        m2[i] = beta2 * m2[i] + (1 - beta2) * g * g;
        T second = m2[i];
        if constexpr (amsgrad) second = m2max[i] = std::max(m2max[i], m2[i]);
        p[i] -= step_size * m1[i] / (std::sqrt(second) * inv_bc2_sqrt + eps);
      }
    });
  }, vmax != nullptr, wd != 0 || decay != 1);
}

template <class T>
void rmsprop_step(const RmspropOptions& o, T* param, const T* grad, T* sq, T* buf, T* gavg,
                  int64_t n) {
  const T lr = T(o.lr), alpha = T(o.alpha), eps = T(o.eps), wd = T(o.weight_decay);
  const T mom = T(o.momentum);
  const T sign = o.maximize ? T(-1) : T(1);
  with_flags([&](auto centered, auto has_momentum, auto decays) {
    parallel_for(n, kUpdateCost, [=](int64_t b, int64_t e) {
      T* EMBER_RESTRICT p = param;
      const T* EMBER_RESTRICT gr = grad;
      T* EMBER_RESTRICT s = sq;
      T* EMBER_RESTRICT mb = buf;
      T* EMBER_RESTRICT ga = gavg;
      for (int64_t i = b; i < e; ++i) {
        const T g = effective_grad<decays>(gr[i], p[i], wd, sign);
        s[i] = alpha * s[i] + (1 - alpha) * g * g;
        T avg;
        if constexpr (centered) {
          ga[i] += (g - ga[i]) * (1 - alpha);
          avg = std::sqrt(s[i] - ga[i] * ga[i]) + eps;
        } else {
          avg = std::sqrt(s[i]) + eps;
        }
        if constexpr (has_momentum) {
          mb[i] = mom * mb[i] + g / avg;
          p[i] -= lr * mb[i];
        } else {
          p[i] -= lr * g / avg;
        }
      }
    });
  }, gavg != nullptr, buf != nullptr, wd != 0);
}

template <class T>
void adagrad_step(const AdagradOptions& o, T* param, const T* grad, T* sum, int64_t n) {
  const T clr = T(o.clr), eps = T(o.eps), wd = T(o.weight_decay);
  const T sign = o.maximize ? T(-1) : T(1);
  with_flags([&](auto decays) {
    parallel_for(n, kUpdateCost, [=](int64_t b, int64_t e) {
      T* EMBER_RESTRICT p = param;
      const T* EMBER_RESTRICT gr = grad;
      T* EMBER_RESTRICT acc = sum;
      for (int64_t i = b; i < e; ++i) {
        const T g = effective_grad<decays>(gr[i], p[i], wd, sign);
        acc[i] += g * g;
        p[i] -= clr * g / (std::sqrt(acc[i]) + eps);
      }
    });
  }, wd != 0);
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void sgd_step<T>(const SgdOptions&, T*, const T*, T*, bool, int64_t);               \
  template void adam_step<T>(const AdamOptions&, T*, const T*, T*, T*, T*, int64_t);           \
  template void rmsprop_step<T>(const RmspropOptions&, T*, const T*, T*, T*, T*, int64_t);     \
  template void adagrad_step<T>(const AdagradOptions&, T*, const T*, T*, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
