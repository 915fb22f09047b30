#include "ember/norm.h"

#include <cmath>

#include "ember/parallel.h"

namespace ember {

namespace {

// Element (i, j) of channel c, where i runs over the batch and j over positions.
struct ChannelIndex {
  const ChannelShape& s;
  int64_t operator()(int64_t i, int64_t c, int64_t j) const {
    return s.channels_last ? (i * s.s + j) * s.c + c : (i * s.c + c) * s.s + j;
  }
};

// Calls f(i, j, index) for every element of channel c in a fixed order.
template <class F>
void for_channel(const ChannelShape& s, int64_t c, F f) {
  const ChannelIndex at{s};
  for (int64_t i = 0; i < s.n; ++i)
    for (int64_t j = 0; j < s.s; ++j) f(at(i, c, j));
}

}  // namespace

template <class T>
void batch_norm_forward_train(const ChannelShape& s, const T* x, const T* weight, const T* bias,
                              double eps, T* y, T* mean, T* var) {
  const int64_t m = s.n * s.s;
  parallel_for(s.c, 4 * m, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      double sum = 0, sq = 0;  // double accumulators: float32 sums of many values drift
      for_channel(s, c, [&](int64_t k) { sum += x[k]; });
      const double mu = m ? sum / m : std::nan("");
      for_channel(s, c, [&](int64_t k) { sq += (x[k] - mu) * (x[k] - mu); });
      const double v = m ? sq / m : std::nan("");
      mean[c] = T(mu), var[c] = T(v);
      const T invstd = T(1 / std::sqrt(v + eps));
      const T w = weight ? weight[c] : T(1), bb = bias ? bias[c] : T(0);
      for_channel(s, c, [&](int64_t k) { y[k] = (x[k] - T(mu)) * invstd * w + bb; });
    }
  });
}

template <class T>
void batch_norm_forward_eval(const ChannelShape& s, const T* x, const T* mean, const T* var,
                             const T* weight, const T* bias, double eps, T* y) {
  parallel_for(s.c, 2 * s.n * s.s, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const T invstd = T(1 / std::sqrt(double(var[c]) + eps));
      const T scale = invstd * (weight ? weight[c] : T(1));
      const T shift = (bias ? bias[c] : T(0)) - mean[c] * scale;
      for_channel(s, c, [&](int64_t k) { y[k] = x[k] * scale + shift; });
    }
  });
}

template <class T>
void batch_norm_backward(const ChannelShape& s, const T* g, const T* x, const T* mean,
                         const T* invstd, const T* weight, bool training, T* gi, T* gw, T* gb) {
  const int64_t m = s.n * s.s;
  parallel_for(s.c, 6 * m, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const T mu = mean[c], is = invstd[c], w = weight ? weight[c] : T(1);
      double sum_g = 0, sum_gx = 0;  // sum(g) and sum(g * (x - mean))
      for_channel(s, c, [&](int64_t k) { sum_g += g[k], sum_gx += g[k] * (x[k] - mu); });
      if (gw) gw[c] = T(sum_gx) * is;
      if (gb) gb[c] = T(sum_g);
      if (!gi) continue;
      if (!training) {
        for_channel(s, c, [&](int64_t k) { gi[k] = g[k] * w * is; });
        continue;
      }
      // d/dx of w * (x - mean) * invstd with batch statistics:
      // w * invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g * (x - mean)))
      const T mean_g = T(sum_g / m), proj = T(sum_gx / m) * is * is;
      for_channel(s, c, [&](int64_t k) { gi[k] = w * is * (g[k] - mean_g - (x[k] - mu) * proj); });
    }
  });
}

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
  template void batch_norm_forward_train<T>(const ChannelShape&, const T*, const T*, const T*, \
                                            double, T*, T*, T*);                               \
  template void batch_norm_forward_eval<T>(const ChannelShape&, const T*, const T*, const T*,  \
                                           const T*, const T*, double, T*);                    \
  template void batch_norm_backward<T>(const ChannelShape&, const T*, const T*, const T*,      \
                                       const T*, const T*, bool, T*, T*, T*);                  \
  template void layer_norm_forward<T>(int64_t, int64_t, const T*, const T*, const T*, double,  \
                                      T*, T*, T*);                                             \
  template void layer_norm_backward<T>(int64_t, int64_t, const T*, const T*, const T*,         \
                                       const T*, const T*, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
