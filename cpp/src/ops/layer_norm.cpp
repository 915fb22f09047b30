// Layer normalization kernels: each row normalized over its own values.
#include "ember/norm.h"

#include <cmath>

#include "ember/parallel.h"

namespace ember {

template <class T>
void layer_norm_forward(int64_t rows, int64_t cols, const T* x, const T* weight, const T* bias,
                        double eps, T* y, T* mean, T* invstd) {
  parallel_for(rows, 6 * cols, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const T* xr = x + r * cols;
      T* yr = y + r * cols;
      double sum = 0, sq = 0;
      for (int64_t j = 0; j < cols; ++j) sum += xr[j];
      const double mu = sum / cols;
      for (int64_t j = 0; j < cols; ++j) sq += (xr[j] - mu) * (xr[j] - mu);
      const T is = T(1 / std::sqrt(sq / cols + eps));
      mean[r] = T(mu), invstd[r] = is;
      for (int64_t j = 0; j < cols; ++j)
        yr[j] = (xr[j] - T(mu)) * is * (weight ? weight[j] : T(1)) + (bias ? bias[j] : T(0));
    }
  });
}

template <class T>
void layer_norm_backward(int64_t rows, int64_t cols, const T* g, const T* x, const T* mean,
                         const T* invstd, const T* weight, T* gi, T* gw, T* gb) {
  if (gi) {
    parallel_for(rows, 8 * cols, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        const T *gr = g + r * cols, *xr = x + r * cols;
        const T mu = mean[r], is = invstd[r];
        double sum_gw = 0, sum_gwx = 0;  // sums of (g * w) and (g * w * xhat)
        for (int64_t j = 0; j < cols; ++j) {
          const T gwj = gr[j] * (weight ? weight[j] : T(1));
          sum_gw += gwj, sum_gwx += gwj * (xr[j] - mu) * is;
        }
        const T a = T(sum_gw / cols), bcoef = T(sum_gwx / cols);
        for (int64_t j = 0; j < cols; ++j) {
          const T xhat = (xr[j] - mu) * is;
          gi[r * cols + j] = is * (gr[j] * (weight ? weight[j] : T(1)) - a - xhat * bcoef);
        }
      }
    });
  }
  if (!gw && !gb) return;
  // Column sums over rows, each column summed by one thread in row order.
  parallel_for(cols, 4 * rows, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      T sw = 0, sb = 0;
      for (int64_t r = 0; r < rows; ++r) {
        const T gr = g[r * cols + j];
        sw += gr * (x[r * cols + j] - mean[r]) * invstd[r];
        sb += gr;
      }
      if (gw) gw[j] = sw;
      if (gb) gb[j] = sb;
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
