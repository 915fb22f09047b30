#include "ember/dense.h"

#include <algorithm>

#include "ember/eigen_maps.h"
#include "ember/parallel.h"
#include "ember/parallel_product.h"

namespace ember {

template <class T>
void matmul_forward(const T* a, const T* b, T* c, int64_t batch, int64_t m, int64_t k, int64_t n) {
  parallel_for(batch, m * k * n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      parallel_product(MatrixMap<T>(c + i * m * n, m, n), ConstMatrixMap<T>(a + i * m * k, m, k),
              ConstMatrixMap<T>(b + i * k * n, k, n));
    }
  });
}

template <class T>
void matmul_backward_a(const T* grad_output, const T* b, T* grad_a, int64_t batch, int64_t m,
                       int64_t k, int64_t n) {
  parallel_for(batch, m * k * n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      parallel_product(MatrixMap<T>(grad_a + i * m * k, m, k),
              ConstMatrixMap<T>(grad_output + i * m * n, m, n),
              ConstMatrixMap<T>(b + i * k * n, k, n).transpose());
    }
  });
}

template <class T>
void matmul_backward_b(const T* grad_output, const T* a, T* grad_b, int64_t batch, int64_t m,
                       int64_t k, int64_t n) {
  parallel_for(batch, m * k * n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      parallel_product(MatrixMap<T>(grad_b + i * k * n, k, n),
              ConstMatrixMap<T>(a + i * m * k, m, k).transpose(),
              ConstMatrixMap<T>(grad_output + i * m * n, m, n));
    }
  });
}

// Strided views of column blocks of row-major matrices.
template <class T>
using ConstColumnsMap = Eigen::Map<const MatrixRM<T>, 0, Eigen::OuterStride<>>;
template <class T>
using ColumnsMap = Eigen::Map<MatrixRM<T>, 0, Eigen::OuterStride<>>;

// Runs block(c0, c1) over an (m, n) output's columns in blocks of 16, split between the threads
// in one ember parallel region, each block a single-threaded Eigen product (k: the inner
// dimension). At an MLP's sizes (128 x 784 x 128) this is ~10% faster at 2 threads than
// Eigen's own threaded GEMM. As with Eigen's threading, the last bits can change with the
// thread count (Eigen's blocking depends on the block's width).
template <class Block>
void over_column_blocks(int64_t m, int64_t n, int64_t k, const Block& block) {
  constexpr int64_t kColumns = 16;
  const int64_t blocks = (n + kColumns - 1) / kColumns;
  parallel_for(blocks, 2 * m * k * kColumns, [&](int64_t b, int64_t e) {
    block(b * kColumns, std::min(n, e * kColumns));
  });
}

template <class T>
void linear_forward(const T* input, const T* weight, const T* bias, T* output, int64_t n,
                    int64_t in, int64_t out) {
  over_column_blocks(n, out, in, [&](int64_t c0, int64_t c1) {
    ColumnsMap<T> y(output + c0, n, c1 - c0, Eigen::OuterStride<>(out));
    y.noalias() = ConstMatrixMap<T>(input, n, in) *
                  ConstMatrixMap<T>(weight + c0 * in, c1 - c0, in).transpose();
    if (bias) y.rowwise() += ConstVectorMap<T>(bias + c0, c1 - c0).transpose();
  });
}

template <class T>
void linear_backward_input(const T* grad_output, const T* weight, T* grad_input, int64_t n,
                           int64_t in, int64_t out) {
  over_column_blocks(n, in, out, [&](int64_t c0, int64_t c1) {
    ColumnsMap<T>(grad_input + c0, n, c1 - c0, Eigen::OuterStride<>(in)).noalias() =
        ConstMatrixMap<T>(grad_output, n, out) *
        ConstColumnsMap<T>(weight + c0, out, c1 - c0, Eigen::OuterStride<>(in));
  });
}

template <class T>
void linear_backward_weight(const T* grad_output, const T* input, T* grad_weight, int64_t n,
                            int64_t in, int64_t out) {
  over_column_blocks(out, in, n, [&](int64_t c0, int64_t c1) {
    ColumnsMap<T>(grad_weight + c0, out, c1 - c0, Eigen::OuterStride<>(in)).noalias() =
        ConstMatrixMap<T>(grad_output, n, out).transpose() *
        ConstColumnsMap<T>(input + c0, n, c1 - c0, Eigen::OuterStride<>(in));
  });
}

template <class T>
void linear_backward_bias(const T* grad_output, T* grad_bias, int64_t n, int64_t out) {
  // Each thread sums whole columns in row order, so the result does not depend on the thread
  // count (Eigen's colwise().sum() changed its summation order with the number of threads).
  parallel_for(out, n, [&](int64_t b, int64_t e) {
    VectorMap<T> acc(grad_bias + b, e - b);
    acc.setZero();
    for (int64_t i = 0; i < n; ++i) acc += ConstVectorMap<T>(grad_output + i * out + b, e - b);
  });
}

template <class T>
void linear_activation_forward(Activation kind, const T* input, const T* weight, const T* bias,
                               T* output, int64_t n, int64_t in, int64_t out) {
  linear_forward(input, weight, bias, output, n, in, out);
  activation_forward(kind, output, output, n * out, ActivationParams{});  // in place
}

template <class T>
void linear_activation_backward(Activation kind, const T* grad_output, const T* input,
                                const T* weight, const T* output, T* grad_pre, T* grad_input,
                                T* grad_weight, T* grad_bias, int64_t n, int64_t in, int64_t out) {
  activation_backward(kind, grad_output, output, grad_pre, n * out, ActivationParams{});
  if (grad_input) linear_backward_input(grad_pre, weight, grad_input, n, in, out);
  if (grad_weight) linear_backward_weight(grad_pre, input, grad_weight, n, in, out);
  if (grad_bias) linear_backward_bias(grad_pre, grad_bias, n, out);
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void matmul_forward<T>(const T*, const T*, T*, int64_t, int64_t, int64_t, int64_t); \
  template void matmul_backward_a<T>(const T*, const T*, T*, int64_t, int64_t, int64_t,        \
                                     int64_t);                                                 \
  template void matmul_backward_b<T>(const T*, const T*, T*, int64_t, int64_t, int64_t,        \
                                     int64_t);                                                 \
  template void linear_forward<T>(const T*, const T*, const T*, T*, int64_t, int64_t, int64_t); \
  template void linear_backward_input<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);   \
  template void linear_backward_weight<T>(const T*, const T*, T*, int64_t, int64_t, int64_t);  \
  template void linear_backward_bias<T>(const T*, T*, int64_t, int64_t);                       \
  template void linear_activation_forward<T>(Activation, const T*, const T*, const T*, T*,     \
                                             int64_t, int64_t, int64_t);                       \
  template void linear_activation_backward<T>(Activation, const T*, const T*, const T*,        \
                                              const T*, T*, T*, T*, T*, int64_t, int64_t,      \
                                              int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
