#include "ember/activation.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "ember/parallel.h"
#include "ember/simd.h"

namespace ember {

namespace {

template <class T>
using Vec = Eigen::Array<T, Eigen::Dynamic, 1>;
template <class T>
using CVecMap = Eigen::Map<const Vec<T>>;
template <class T>
using VecMap = Eigen::Map<Vec<T>>;

constexpr int64_t kElementwiseCost = 16;  // a transcendental per element, roughly

// Applies f(x_chunk, y_chunk) to matching chunks of x and y in parallel.
template <class T, class F>
void chunked(const T* x, T* y, int64_t n, F f) {
  parallel_for(n, kElementwiseCost, [&](int64_t b, int64_t e) {
    f(CVecMap<T>(x + b, e - b), VecMap<T>(y + b, e - b));
  });
}
template <class T, class F>
void chunked2(const T* g, const T* s, T* out, int64_t n, F f) {
  parallel_for(n, kElementwiseCost, [&](int64_t b, int64_t e) {
    f(CVecMap<T>(g + b, e - b), CVecMap<T>(s + b, e - b), VecMap<T>(out + b, e - b));
  });
}

template <class T>
T gelu_exact(T x) {
  return T(0.5) * x * (T(1) + std::erf(x * T(M_SQRT1_2)));
}
template <class T>
T gelu_exact_grad(T x) {
  const T cdf = T(0.5) * (T(1) + std::erf(x * T(M_SQRT1_2)));
  const T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
  return cdf + x * pdf;
}
constexpr double kGeluTanhC = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluTanhA = 0.044715;

}  // namespace

template <class T>
void activation_forward(Activation kind, const T* input, T* output, int64_t n, ActivationParams p) {
  const T a = T(p.alpha), b = T(p.beta);
  switch (kind) {
    case Activation::relu:
      return chunked(input, output, n, [](auto x, auto y) { y = x.max(T(0)); });
    case Activation::leaky_relu:
      return chunked(input, output, n, [a](auto x, auto y) { y = (x > T(0)).select(x, x * a); });
    case Activation::elu:
      return chunked(input, output, n,
                     [a](auto x, auto y) { y = (x > T(0)).select(x, a * (x.exp() - T(1))); });
    case Activation::gelu:
      return chunked(input, output, n, [](auto x, auto y) { y = x.unaryExpr(&gelu_exact<T>); });
    case Activation::gelu_tanh:
      return chunked(input, output, n, [](auto x, auto y) {
        y = T(0.5) * x * (T(1) + (T(kGeluTanhC) * (x + T(kGeluTanhA) * x.cube())).tanh());
      });
    case Activation::sigmoid:
      return chunked(input, output, n, [](auto x, auto y) { y = x.logistic(); });
    case Activation::tanh:
      return chunked(input, output, n, [](auto x, auto y) { y = x.tanh(); });
    case Activation::softplus:
      // log1p(exp(b x)) / b, computed as max(bx, 0) + log1p(exp(-|bx|)) so it never overflows.
      return chunked(input, output, n, [a, b](auto x, auto y) {
        y = (x * a > b).select(x, ((x * a).max(T(0)) + (-(x * a).abs()).exp().log1p()) / a);
      });
  }
}

template <class T>
void activation_backward(Activation kind, const T* grad_output, const T* saved, T* grad_input,
                         int64_t n, ActivationParams p) {
  const T a = T(p.alpha), b = T(p.beta);
  switch (kind) {
    case Activation::relu:
      return chunked2(grad_output, saved, grad_input, n,
                      [](auto g, auto x, auto gi) { gi = (x > T(0)).select(g, T(0)); });
    case Activation::leaky_relu:
      return chunked2(grad_output, saved, grad_input, n,
                      [a](auto g, auto x, auto gi) { gi = (x > T(0)).select(g, g * a); });
    case Activation::elu:
      return chunked2(grad_output, saved, grad_input, n,
                      [a](auto g, auto x, auto gi) { gi = (x > T(0)).select(g, g * a * x.exp()); });
    case Activation::gelu:
      return chunked2(grad_output, saved, grad_input, n, [](auto g, auto x, auto gi) {
        gi = g * x.unaryExpr(&gelu_exact_grad<T>);
      });
    case Activation::gelu_tanh:
      return chunked2(grad_output, saved, grad_input, n, [](auto g, auto x, auto gi) {
        const Vec<T> t = (T(kGeluTanhC) * (x + T(kGeluTanhA) * x.cube())).tanh();
        gi = g * (T(0.5) * (T(1) + t) +
                  T(0.5) * x * (T(1) - t.square()) * T(kGeluTanhC) *
                      (T(1) + T(3 * kGeluTanhA) * x.square()));
      });
    case Activation::sigmoid:
      return chunked2(grad_output, saved, grad_input, n,
                      [](auto g, auto y, auto gi) { gi = g * y * (T(1) - y); });
    case Activation::tanh:
      return chunked2(grad_output, saved, grad_input, n,
                      [](auto g, auto y, auto gi) { gi = g * (T(1) - y.square()); });
    case Activation::softplus:
      return chunked2(grad_output, saved, grad_input, n, [a, b](auto g, auto x, auto gi) {
        gi = (x * a > b).select(g, g * (x * a).logistic());
      });
  }
}

namespace {

template <class T>
using Block = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Row = Eigen::Array<T, 1, Eigen::Dynamic>;
template <class T>
using CBlockMap = Eigen::Map<const Block<T>>;
template <class T>
using BlockMap = Eigen::Map<Block<T>>;

// Calls f(in_block, out_block) for each (dim, inner) block, in parallel over `outer`.
template <class T, class F>
void over_blocks(const T* in, T* out, int64_t outer, int64_t dim, int64_t inner, F f) {
  // Nothing to compute, and a column of no rows has no max for colwise() to read (AddressSanitizer
  // caught it reading past the buffer).
  if (dim == 0 || inner == 0) return;
  const int64_t block = dim * inner;
  parallel_for(outer, block * kElementwiseCost, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o)
      f(CBlockMap<T>(in + o * block, dim, inner), BlockMap<T>(out + o * block, dim, inner));
  });
}
template <class T, class F>
void over_blocks2(const T* g, const T* s, T* out, int64_t outer, int64_t dim, int64_t inner, F f) {
  if (dim == 0 || inner == 0) return;  // as over_blocks
  const int64_t block = dim * inner;
  parallel_for(outer, block * kElementwiseCost, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o)
      f(CBlockMap<T>(g + o * block, dim, inner), CBlockMap<T>(s + o * block, dim, inner),
        BlockMap<T>(out + o * block, dim, inner));
  });
}

// Rows along the last dimension (inner == 1), the usual case (classes, attention keys): one
// contiguous row at a time. (The block maps above reduce through heap-allocated 1-column
// temporaries there, ~10x PyTorch's time on attention scores.)
template <class T, class F>
bool over_last_dim(int64_t outer, int64_t dim, int64_t inner, F f) {
  if (inner != 1) return false;
  if (dim == 0) return true;
  parallel_for(outer, dim * kElementwiseCost, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) f(o * dim);
  });
  return true;
}

template <class T>
T row_max(const T* x, int64_t n) {
  return Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>(x, n).maxCoeff();
}

// y[0, n) = exp(x[0, n) - shift), every element through Eigen's vector exp: a scalar tail would
// take std::exp, whose last bit differs, and which elements fall in it would depend on the
// row's alignment. Sums use simd::sum_n for the same reason.
template <class T>
void exp_shifted(const T* x, T shift, T* y, int64_t n) {
  namespace ei = Eigen::internal;
  using Packet = typename ei::packet_traits<T>::type;
  constexpr int kSize = ei::packet_traits<T>::size;
  const Packet s = ei::pset1<Packet>(shift);
  int64_t j = 0;
  for (; j + kSize <= n; j += kSize)
    ei::pstoreu(y + j, ei::pexp(ei::psub(ei::ploadu<Packet>(x + j), s)));
  if (j < n) {
    T buf[kSize];
    const int rest = int(n - j);
    for (int l = 0; l < kSize; ++l) buf[l] = l < rest ? x[j + l] : shift;
    ei::pstoreu(buf, ei::pexp(ei::psub(ei::ploadu<Packet>(buf), s)));
    std::copy(buf, buf + rest, y + j);
  }
}

}  // namespace

template <class T>
void softmax_forward(const T* input, T* output, int64_t outer, int64_t dim, int64_t inner) {
  if (over_last_dim<T>(outer, dim, inner, [&](int64_t at) {
        const T* x = input + at;
        T* y = output + at;
        exp_shifted(x, row_max(x, dim), y, dim);
        const T sum = simd::sum_n(y, dim);
        for (int64_t j = 0; j < dim; ++j) y[j] /= sum;
      }))
    return;
  over_blocks(input, output, outer, dim, inner, [](auto x, auto y) {
    const Row<T> max = x.colwise().maxCoeff();
    y = (x.rowwise() - max).exp();
    const Row<T> sum = y.colwise().sum();
    y.rowwise() /= sum;
  });
}

template <class T>
void log_softmax_forward(const T* input, T* output, int64_t outer, int64_t dim, int64_t inner) {
  if (over_last_dim<T>(outer, dim, inner, [&](int64_t at) {
        const T* x = input + at;
        T* y = output + at;
        const T max = row_max(x, dim);
        exp_shifted(x, max, y, dim);
        const T log_sum = std::log(simd::sum_n(y, dim));
        for (int64_t j = 0; j < dim; ++j) y[j] = (x[j] - max) - log_sum;
      }))
    return;
  over_blocks(input, output, outer, dim, inner, [](auto x, auto y) {
    const Row<T> max = x.colwise().maxCoeff();
    y = x.rowwise() - max;
    const Row<T> log_sum = y.exp().colwise().sum().log();
    y.rowwise() -= log_sum;
  });
}

template <class T>
void softmax_backward(const T* grad_output, const T* output, T* grad_input, int64_t outer,
                      int64_t dim, int64_t inner) {
  if (over_last_dim<T>(outer, dim, inner, [&](int64_t at) {
        const T *g = grad_output + at, *y = output + at;
        T* gi = grad_input + at;
        for (int64_t j = 0; j < dim; ++j) gi[j] = g[j] * y[j];
        const T dot = simd::sum_n(gi, dim);
        for (int64_t j = 0; j < dim; ++j) gi[j] = y[j] * (g[j] - dot);
      }))
    return;
  over_blocks2(grad_output, output, grad_input, outer, dim, inner, [](auto g, auto y, auto gi) {
    const Row<T> dot = (g * y).colwise().sum();
    gi = y * (g.rowwise() - dot);
  });
}

template <class T>
void log_softmax_backward(const T* grad_output, const T* output, T* grad_input, int64_t outer,
                          int64_t dim, int64_t inner) {
  if (over_last_dim<T>(outer, dim, inner, [&](int64_t at) {
        const T *g = grad_output + at, *y = output + at;
        T* gi = grad_input + at;
        const T sum = simd::sum_n(g, dim);
        exp_shifted(y, T(0), gi, dim);
        for (int64_t j = 0; j < dim; ++j) gi[j] = g[j] - gi[j] * sum;
      }))
    return;
  over_blocks2(grad_output, output, grad_input, outer, dim, inner, [](auto g, auto y, auto gi) {
    const Row<T> sum = g.colwise().sum();
    gi = g - y.exp().rowwise() * sum;
  });
}

#define EMBER_INSTANTIATE(T)                                                                 \
  template void activation_forward<T>(Activation, const T*, T*, int64_t, ActivationParams);  \
  template void activation_backward<T>(Activation, const T*, const T*, T*, int64_t,          \
                                       ActivationParams);                                    \
  template void softmax_forward<T>(const T*, T*, int64_t, int64_t, int64_t);                 \
  template void log_softmax_forward<T>(const T*, T*, int64_t, int64_t, int64_t);             \
  template void softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);      \
  template void log_softmax_backward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
