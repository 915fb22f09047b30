#include "ember/activation.h"

#include <Eigen/Core>
#include <cmath>

#include "ember/parallel.h"

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

}  // namespace

template <class T>
void softmax_forward(const T* input, T* output, int64_t outer, int64_t dim, int64_t inner) {
  over_blocks(input, output, outer, dim, inner, [](auto x, auto y) {
    const Row<T> max = x.colwise().maxCoeff();
    y = (x.rowwise() - max).exp();
    const Row<T> sum = y.colwise().sum();
    y.rowwise() /= sum;
  });
}

template <class T>
void log_softmax_forward(const T* input, T* output, int64_t outer, int64_t dim, int64_t inner) {
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
  over_blocks2(grad_output, output, grad_input, outer, dim, inner, [](auto g, auto y, auto gi) {
    const Row<T> dot = (g * y).colwise().sum();
    gi = y * (g.rowwise() - dot);
  });
}

template <class T>
void log_softmax_backward(const T* grad_output, const T* output, T* grad_input, int64_t outer,
                          int64_t dim, int64_t inner) {
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
