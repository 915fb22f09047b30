// Layer normalization kernels: each row normalized over its own values.
//
// Row sums run in lanes (lane_sum): a plain running sum cannot be vectorized (the compiler may
// not reorder floating-point additions), and then a transformer's 128-wide rows cost more than
// the products around them. The lanes are fixed by the row length alone, so every result is the
// same whatever the data's alignment, the instruction set or the thread count.
#include "ember/norm.h"

#include <algorithm>
#include <cmath>

#include "ember/parallel.h"

namespace ember {

namespace {
// Sum of term(j) for j in [0, n): lane l adds the terms j = l (mod kLanes), then the lanes are
// added pairwise in a fixed order.
template <class T, class Term>
T lane_sum(int64_t n, const Term& term) {
  constexpr int kLanes = 32;
  T acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += term(j + l);
  for (int l = 0; j + l < n; ++l) acc[l] += term(j + l);
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int l = 0; l < width; ++l) acc[l] += acc[l + width];
  return acc[0];
}
}  // namespace

template <class T>
void layer_norm_forward(int64_t rows, int64_t cols, const T* x, const T* weight, const T* bias,
                        double eps, T* y, T* mean, T* invstd) {
  parallel_for(rows, 6 * cols, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      const T mu = cols ? lane_sum<T>(cols, [&](int64_t j) { return xr[j]; }) / T(cols) : T(0);
      // two passes: no cancellation in the variance
      const T var = cols ? lane_sum<T>(cols, [&](int64_t j) {
        return (xr[j] - mu) * (xr[j] - mu);
      }) / T(cols) : T(0);
      const T is = T(1 / std::sqrt(double(var) + eps));
      mean[r] = mu, invstd[r] = is;
      for (int64_t j = 0; j < cols; ++j)
        yr[j] = (xr[j] - mu) * is * (weight ? weight[j] : T(1)) + (bias ? bias[j] : T(0));
    }
  });
}

template <class T>
void layer_norm_backward(int64_t rows, int64_t cols, const T* g, const T* x, const T* mean,
                         const T* invstd, const T* weight, T* gi, T* gw, T* gb) {
  if (gi && cols) {
    parallel_for(rows, 8 * cols, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T *gr = g + r * cols, *xr = x + r * cols;
        const T mu = mean[r], is = invstd[r];
        auto gw_at = [&](int64_t j) { return weight ? gr[j] * weight[j] : gr[j]; };
        const T a = lane_sum<T>(cols, gw_at) / T(cols);
        const T bcoef = lane_sum<T>(cols, [&](int64_t j) {
          return gw_at(j) * ((xr[j] - mu) * is);
        }) / T(cols);
        T* gir = gi + r * cols;
        for (int64_t j = 0; j < cols; ++j)
          gir[j] = is * (gw_at(j) - a - (xr[j] - mu) * is * bcoef);
      }
    });
  }
  if (!gw && !gb) return;
  // Column sums, each column's in row order: a thread takes blocks of columns and walks the
  // rows, so the inner loop runs along contiguous memory. The blocks do not depend on the
  // thread count.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  parallel_for(blocks, 4 * rows * kBlock, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      const int64_t c0 = block * kBlock, c1 = std::min(cols, c0 + kBlock);
      for (int64_t j = c0; j < c1; ++j) {
        if (gw) gw[j] = 0;
        if (gb) gb[j] = 0;
      }
      for (int64_t r = 0; r < rows; ++r) {
        const T *gr = g + r * cols, *xr = x + r * cols;
        const T mu = mean[r], is = invstd[r];
        if (gw)
          for (int64_t j = c0; j < c1; ++j) gw[j] += gr[j] * ((xr[j] - mu) * is);
        if (gb)
          for (int64_t j = c0; j < c1; ++j) gb[j] += gr[j];
      }
    }
  });
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void layer_norm_forward<T>(int64_t, int64_t, const T*, const T*, const T*, double,  \
                                      T*, T*, T*);                                             \
  template void layer_norm_backward<T>(int64_t, int64_t, const T*, const T*, const T*,         \
                                       const T*, const T*, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
