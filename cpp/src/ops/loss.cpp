#include "ember/loss.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "ember/activation.h"
#include "ember/parallel.h"

namespace ember {

namespace {

template <class T>
T sign(T x) {
  return T((x > 0) - (x < 0));
}
template <class T>
T softplus_neg(T x) {  // log(1 + exp(-x)), stable for all x
  return std::log1p(std::exp(-std::abs(x))) + std::max(-x, T(0));
}
template <class T>
T sigmoid(T x) {
  return x >= 0 ? T(1) / (T(1) + std::exp(-x)) : std::exp(x) / (T(1) + std::exp(x));
}

template <class T>
T pointwise_loss(PointwiseLoss kind, T param, T x, T t, T pw) {
  const T d = x - t;
  switch (kind) {
    case PointwiseLoss::mse: return d * d;
    case PointwiseLoss::l1: return std::abs(d);
    case PointwiseLoss::huber:
      return std::abs(d) < param ? T(0.5) * d * d : param * (std::abs(d) - T(0.5) * param);
    case PointwiseLoss::smooth_l1:
      return std::abs(d) < param ? T(0.5) * d * d / param : std::abs(d) - T(0.5) * param;
    case PointwiseLoss::bce:  // PyTorch clamps each log at -100 so that 0 and 1 stay finite
      return -(t * std::max(std::log(x), T(-100)) + (1 - t) * std::max(std::log1p(-x), T(-100)));
    case PointwiseLoss::bce_with_logits:
      return (1 - t) * x + (1 + (pw - 1) * t) * softplus_neg(x);
  }
  return 0;
}

template <class T>
T pointwise_loss_grad(PointwiseLoss kind, T param, T x, T t, T pw) {
  const T d = x - t;
  switch (kind) {
    case PointwiseLoss::mse: return 2 * d;
    case PointwiseLoss::l1: return sign(d);
    case PointwiseLoss::huber: return std::abs(d) < param ? d : param * sign(d);
    case PointwiseLoss::smooth_l1: return std::abs(d) < param ? d / param : sign(d);
    case PointwiseLoss::bce: return d / std::max((1 - x) * x, T(1e-12));
    case PointwiseLoss::bce_with_logits: return (pw * t + 1 - t) * sigmoid(x) - pw * t;
  }
  return 0;
}

constexpr int64_t kSumBlock = 4096;

}  // namespace

template <class T>
void pointwise_loss_forward(const PointwiseLossArgs& a, const T* input, const T* target, T* losses,
                            int64_t n) {
  const T* w = static_cast<const T*>(a.weight);
  const T* pw = static_cast<const T*>(a.pos_weight);
  const T param = T(a.param);
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T l = pointwise_loss(a.kind, param, input[i], target[i], pw ? pw[i] : T(1));
      losses[i] = w ? w[i] * l : l;
    }
  });
}

template <class T>
void pointwise_loss_backward(const PointwiseLossArgs& a, const T* grad_output, int64_t grad_stride,
                             T scale, const T* input, const T* target, T* grad_input, int64_t n) {
  const T* w = static_cast<const T*>(a.weight);
  const T* pw = static_cast<const T*>(a.pos_weight);
  const T param = T(a.param);
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T g = grad_output[i * grad_stride] * scale *
            pointwise_loss_grad(a.kind, param, input[i], target[i], pw ? pw[i] : T(1));
      grad_input[i] = w ? w[i] * g : g;
    }
  });
}

template <class T>
double deterministic_sum(const T* values, int64_t n) {
  const int64_t blocks = (n + kSumBlock - 1) / kSumBlock;
  std::vector<double> partial(blocks, 0.0);
  parallel_for(blocks, kSumBlock, [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      double s = 0;
      for (int64_t i = k * kSumBlock, end = std::min(n, i + kSumBlock); i < end; ++i) s += values[i];
      partial[k] = s;
    }
  });
  double total = 0;
  for (double s : partial) total += s;
  return total;
}

template <class T>
void cross_entropy_forward(const ClassLossArgs<T>& a, const T* logits, const int64_t* target,
                           T* log_probs, T* losses, T* sample_weights, int64_t n, int64_t c) {
  log_softmax_forward<T>(logits, log_probs, n, c, 1);
  const T eps = T(a.label_smoothing);
  parallel_for(n, c, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t y = target[i];
      if (y == a.ignore_index) {
        losses[i] = sample_weights[i] = 0;
        continue;
      }
      const T* lp = log_probs + i * c;
      const T wy = a.weight ? a.weight[y] : T(1);
      T loss = -(1 - eps) * wy * lp[y];
      if (eps > 0) {
        T smooth = 0;
        for (int64_t j = 0; j < c; ++j) smooth -= (a.weight ? a.weight[j] : T(1)) * lp[j];
        loss += eps / T(c) * smooth;
      }
      losses[i] = loss;
      sample_weights[i] = wy;
    }
  });
}

template <class T>
void cross_entropy_backward(const ClassLossArgs<T>& a, const T* grad_output, int64_t grad_stride,
                            T scale, const T* log_probs, const int64_t* target, T* grad_logits,
                            int64_t n, int64_t c) {
  const T eps = T(a.label_smoothing);
  T weight_sum = T(c);
  if (a.weight) weight_sum = std::accumulate(a.weight, a.weight + c, T(0));
  parallel_for(n, c * 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T* gi = grad_logits + i * c;
      const int64_t y = target[i];
      if (y == a.ignore_index) {
        std::fill(gi, gi + c, T(0));
        continue;
      }
      const T* lp = log_probs + i * c;
      const T g = grad_output[i * grad_stride] * scale;
      const T hard = (1 - eps) * (a.weight ? a.weight[y] : T(1));
      const T soft = eps / T(c);
      // d/dx_j [hard * -logp_y + soft * sum_k -w_k logp_k] = hard (p_j - [j=y]) + soft (p_j W - w_j)
      for (int64_t j = 0; j < c; ++j) {
        const T p = std::exp(lp[j]);
        gi[j] = g * (hard * p + soft * (p * weight_sum - (a.weight ? a.weight[j] : T(1))));
      }
      gi[y] -= g * hard;
    }
  });
}

template <class T>
void cross_entropy_probs_forward(const ClassLossArgs<T>& a, const T* logits, const T* target,
                                 T* log_probs, T* losses, int64_t n, int64_t c) {
  log_softmax_forward<T>(logits, log_probs, n, c, 1);
  const T eps = T(a.label_smoothing);
  parallel_for(n, c, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      T loss = 0;
      for (int64_t j = 0; j < c; ++j) {
        const T t = (1 - eps) * target[i * c + j] + eps / T(c);
        loss -= (a.weight ? a.weight[j] : T(1)) * t * log_probs[i * c + j];
      }
      losses[i] = loss;
    }
  });
}

template <class T>
void cross_entropy_probs_backward(const ClassLossArgs<T>& a, const T* grad_output,
                                  int64_t grad_stride, T scale, const T* log_probs,
                                  const T* target, T* grad_logits, int64_t n, int64_t c) {
  const T eps = T(a.label_smoothing);
  parallel_for(n, c * 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = grad_output[i * grad_stride] * scale;
      // loss = -sum_j w_j t_j logp_j  =>  dloss/dx_j = p_j * sum_k w_k t_k - w_j t_j
      T weighted_mass = 0;
      for (int64_t j = 0; j < c; ++j)
        weighted_mass += (a.weight ? a.weight[j] : T(1)) * ((1 - eps) * target[i * c + j] + eps / T(c));
      for (int64_t j = 0; j < c; ++j) {
        const T wt = (a.weight ? a.weight[j] : T(1)) * ((1 - eps) * target[i * c + j] + eps / T(c));
        grad_logits[i * c + j] = g * (std::exp(log_probs[i * c + j]) * weighted_mass - wt);
      }
    }
  });
}

template <class T>
void nll_loss_forward(const ClassLossArgs<T>& a, const T* log_probs, const int64_t* target,
                      T* losses, T* sample_weights, int64_t n, int64_t c) {
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = target[i];
    if (y == a.ignore_index) {
      losses[i] = sample_weights[i] = 0;
      continue;
    }
    const T wy = a.weight ? a.weight[y] : T(1);
    losses[i] = -wy * log_probs[i * c + y];  // NaN/-inf log-probs stay visible, as in PyTorch
    sample_weights[i] = wy;
  }
}

template <class T>
void nll_loss_backward(const ClassLossArgs<T>& a, const T* grad_output, int64_t grad_stride,
                       T scale, const int64_t* target, T* grad_input, int64_t n, int64_t c) {
  std::fill(grad_input, grad_input + n * c, T(0));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = target[i];
    if (y == a.ignore_index) continue;
    grad_input[i * c + y] = -grad_output[i * grad_stride] * scale * (a.weight ? a.weight[y] : T(1));
  }
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void pointwise_loss_forward<T>(const PointwiseLossArgs&, const T*, const T*, T*,     \
                                          int64_t);                                             \
  template void pointwise_loss_backward<T>(const PointwiseLossArgs&, const T*, int64_t, T,      \
                                           const T*, const T*, T*, int64_t);                    \
  template double deterministic_sum<T>(const T*, int64_t);                                      \
  template void cross_entropy_forward<T>(const ClassLossArgs<T>&, const T*, const int64_t*, T*, \
                                         T*, T*, int64_t, int64_t);                             \
  template void cross_entropy_backward<T>(const ClassLossArgs<T>&, const T*, int64_t, T,        \
                                          const T*, const int64_t*, T*, int64_t, int64_t);      \
  template void cross_entropy_probs_forward<T>(const ClassLossArgs<T>&, const T*, const T*, T*, \
                                               T*, int64_t, int64_t);                           \
  template void cross_entropy_probs_backward<T>(const ClassLossArgs<T>&, const T*, int64_t, T,  \
                                                const T*, const T*, T*, int64_t, int64_t);      \
  template void nll_loss_forward<T>(const ClassLossArgs<T>&, const T*, const int64_t*, T*, T*,  \
                                    int64_t, int64_t);                                          \
  template void nll_loss_backward<T>(const ClassLossArgs<T>&, const T*, int64_t, T,             \
                                     const int64_t*, T*, int64_t, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
