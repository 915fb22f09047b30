// Batch normalization kernels for channels-first (n, c, s) and channels-last (n, s, c) data.
//
// Both layouts are walked as runs of contiguous values: channels last, a run is one row of c
// values, one per channel, and the loops vectorize over channels; channels first, a run is the
// s values of one channel in one sample, and the loops vectorize along the run. Statistics are
// gathered per block of runs (about kBlockValues values, fixed by the shape alone): each block's
// mean and sum of squared deviations in two passes while it is in cache, then the blocks are
// merged in order (Chan et al.'s pairwise update). So the input is read from memory once for
// the statistics, the variance never subtracts two large sums, and the result does not depend
// on how the blocks were shared among threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ember/norm.h"
#include "ember/parallel.h"
#include "ember/simd.h"

namespace ember {

namespace {

constexpr int64_t kBlockValues = 8192;  // per block and channel group: a block stays in L1/L2

// The data as runs of contiguous values, and its statistics blocks.
struct Runs {
  bool rows;      // channels last: runs are rows holding every channel
  int64_t c;      // channels
  int64_t count;  // rows (n * s) when `rows`, else samples n (each with c runs)
  int64_t len;    // values per run: c when `rows`, else s
  int64_t per_block, blocks;  // runs (rows or samples) per statistics block, and the blocks

  explicit Runs(const ChannelShape& sh)
      // (n, c, 1) is both layouts; with one channel the rows would be single values.
      : rows((sh.channels_last || sh.s == 1) && sh.c > 1),
        c(sh.c),
        count(rows ? sh.n * sh.s : sh.n),
        len(rows ? sh.c : sh.s),
        per_block(std::max<int64_t>(1, kBlockValues / std::max<int64_t>(len, 1))),
        blocks((count + per_block - 1) / per_block) {}

  int64_t block_begin(int64_t b) const { return b * per_block; }
  int64_t block_end(int64_t b) const { return std::min(count, (b + 1) * per_block); }
  // Values of one channel in block b.
  int64_t block_values(int64_t b) const {
    return (block_end(b) - block_begin(b)) * (rows ? 1 : len);
  }
  // Offset of the run of channel ch in sample i (channels first).
  int64_t run_offset(int64_t i, int64_t ch) const { return (i * c + ch) * len; }
};

// One vector of double accumulators.
typedef double Acc __attribute__((vector_size(simd::kBytes)));

// Runs of T (float or double) read as vectors of doubles.
template <class T>
struct Lanes {
  static constexpr int n = simd::lanes<double>;
  typedef T Val __attribute__((vector_size(n * sizeof(T))));
  static Acc load(const T* p) { return __builtin_convertvector(simd::load<Val>(p), Acc); }
  // The lanes in order, then the tail: a fixed order for any thread and any buffer address.
  static double total(const Acc& acc, double tail) {
    double sum = 0;
    for (int l = 0; l < n; ++l) sum += acc[l];
    return sum + tail;
  }
};

// Running sums over runs of one channel (channels first): of x, of (x - mean)^2, and of g and
// g * (x - mean) for the backward pass.
template <class T>
struct RunSums {
  using L = Lanes<T>;
  Acc a{}, b{};
  double tail_a = 0, tail_b = 0;

  void add(const T* x, int64_t len) {
    int64_t j = 0;
    for (; j + L::n <= len; j += L::n) a += L::load(x + j);
    for (; j < len; ++j) tail_a += x[j];
  }
  void add_squared_deviation(const T* x, int64_t len, double mean) {
    int64_t j = 0;
    for (; j + L::n <= len; j += L::n) {
      const Acc d = L::load(x + j) - mean;
      a += d * d;
    }
    for (; j < len; ++j) tail_a += (x[j] - mean) * (x[j] - mean);
  }
  void add_gradient(const T* g, const T* x, int64_t len, double mean) {
    int64_t j = 0;
    for (; j + L::n <= len; j += L::n) {
      const Acc gv = L::load(g + j);
      a += gv, b += gv * (L::load(x + j) - mean);
    }
    for (; j < len; ++j) tail_a += g[j], tail_b += g[j] * (x[j] - mean);
  }
  double first() const { return L::total(a, tail_a); }
  double second() const { return L::total(b, tail_b); }
};

// Two sums per block and channel, stored at [b * c + ch] of `first` and `second`, in parallel
// over blocks. Channels last, rows(begin, end, first, second) adds the rows [begin, end) into
// the block's zeroed sums of every channel; channels first, run(b, ch, first, second) sets
// the sums of channel ch in block b.
template <class Rows, class Run>
void for_each_block(const Runs& r, double* first, double* second, Rows rows, Run run) {
  if (r.rows) {
    parallel_for(r.blocks, 4 * kBlockValues, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        double *f = first + b * r.c, *s = second + b * r.c;
        std::fill(f, f + r.c, 0.0);
        std::fill(s, s + r.c, 0.0);
        rows(r.block_begin(b), r.block_end(b), f, s);
      }
    });
    return;
  }
  parallel_for(r.blocks * r.c, 4 * r.per_block * r.len, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) run(q / r.c, q % r.c, first[q], second[q]);
  });
}

// Per block and channel: the block's mean and sum of squared deviations from it.
template <class T>
void block_statistics(const Runs& r, const T* x, double* mean, double* m2) {
  auto rows = [&](int64_t begin, int64_t end, double* mu, double* sq) {
    for (int64_t i = begin; i < end; ++i) {
      const T* row = x + i * r.c;
      for (int64_t ch = 0; ch < r.c; ++ch) mu[ch] += row[ch];
    }
    const double inv_count = 1.0 / double(end - begin);
    for (int64_t ch = 0; ch < r.c; ++ch) mu[ch] *= inv_count;
    for (int64_t i = begin; i < end; ++i) {
      const T* row = x + i * r.c;
      for (int64_t ch = 0; ch < r.c; ++ch) sq[ch] += (row[ch] - mu[ch]) * (row[ch] - mu[ch]);
    }
  };
  auto run = [&](int64_t b, int64_t ch, double& mu, double& sq) {
    RunSums<T> sum, dev;
    for (int64_t i = r.block_begin(b); i < r.block_end(b); ++i)
      sum.add(x + r.run_offset(i, ch), r.len);
    mu = sum.first() / double(r.block_values(b));
    for (int64_t i = r.block_begin(b); i < r.block_end(b); ++i)
      dev.add_squared_deviation(x + r.run_offset(i, ch), r.len, mu);
    sq = dev.first();
  };
  for_each_block(r, mean, m2, rows, run);
}

// Merges the blocks' statistics in block order into the mean and biased variance per channel.
void merge_blocks(const Runs& r, const double* block_mean, const double* block_m2, double* mean,
                  double* var) {
  std::vector<double> m2(r.c, 0.0);
  std::fill(mean, mean + r.c, 0.0);
  double count = 0;
  for (int64_t b = 0; b < r.blocks; ++b) {
    const double nb = double(r.block_values(b)), total = count + nb;
    if (nb == 0) continue;  // positions of size 0
    const double weight = nb / total, cross = count * nb / total;
    for (int64_t ch = 0; ch < r.c; ++ch) {
      const double delta = block_mean[b * r.c + ch] - mean[ch];
      mean[ch] += delta * weight;
      m2[ch] += block_m2[b * r.c + ch] + delta * delta * cross;
    }
    count = total;
  }
  for (int64_t ch = 0; ch < r.c; ++ch)
    if (count > 0) {
      var[ch] = m2[ch] / count;
    } else {  // an empty batch has no statistics
      mean[ch] = var[ch] = std::numeric_limits<double>::quiet_NaN();
    }
}

// out = (in - shift[ch]) * scale[ch] + bias[ch] for every value, by channel.
template <class T>
void affine_by_channel(const Runs& r, const T* in, const T* shift, const T* scale, const T* bias,
                       T* out) {
  if (r.rows) {
    parallel_for(r.count, 3 * r.c, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const T* x = in + i * r.c;
        T* y = out + i * r.c;
        for (int64_t ch = 0; ch < r.c; ++ch) y[ch] = (x[ch] - shift[ch]) * scale[ch] + bias[ch];
      }
    });
    return;
  }
  parallel_for(r.count * r.c, 3 * r.len, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t ch = q % r.c;
      const T sh = shift[ch], sc = scale[ch], bi = bias[ch];
      const T* x = in + q * r.len;
      T* y = out + q * r.len;
      for (int64_t j = 0; j < r.len; ++j) y[j] = (x[j] - sh) * sc + bi;
    }
  });
}

template <class T>
T or_value(const T* p, int64_t i, T value) {
  return p ? p[i] : value;
}

}  // namespace

template <class T>
void batch_norm_forward_train(const ChannelShape& s, const T* x, const T* weight, const T* bias,
                              double eps, T* y, T* mean, T* var) {
  const Runs r(s);
  std::vector<double> block_mean(r.blocks * r.c), block_m2(r.blocks * r.c), mu(r.c), v(r.c);
  block_statistics(r, x, block_mean.data(), block_m2.data());
  merge_blocks(r, block_mean.data(), block_m2.data(), mu.data(), v.data());
  std::vector<T> shift(r.c), scale(r.c), shift_to(r.c);
  for (int64_t ch = 0; ch < r.c; ++ch) {
    mean[ch] = T(mu[ch]), var[ch] = T(v[ch]);
    shift[ch] = T(mu[ch]);
    scale[ch] = T(1 / std::sqrt(v[ch] + eps)) * or_value(weight, ch, T(1));
    shift_to[ch] = or_value(bias, ch, T(0));
  }
  affine_by_channel(r, x, shift.data(), scale.data(), shift_to.data(), y);
}

template <class T>
void batch_norm_forward_eval(const ChannelShape& s, const T* x, const T* mean, const T* var,
                             const T* weight, const T* bias, double eps, T* y) {
  const Runs r(s);
  std::vector<T> scale(r.c), shift_to(r.c);
  for (int64_t ch = 0; ch < r.c; ++ch) {
    scale[ch] = T(1 / std::sqrt(double(var[ch]) + eps)) * or_value(weight, ch, T(1));
    shift_to[ch] = or_value(bias, ch, T(0));
  }
  affine_by_channel(r, x, mean, scale.data(), shift_to.data(), y);
}

// Per block and channel: sum(g) and sum(g * (x - mean)).
template <class T>
void block_gradient_sums(const Runs& r, const T* g, const T* x, const T* mean, double* sum_g,
                         double* sum_gx) {
  auto rows = [&](int64_t begin, int64_t end, double* sg, double* sgx) {
    for (int64_t i = begin; i < end; ++i) {
      const T *gr = g + i * r.c, *xr = x + i * r.c;
      for (int64_t ch = 0; ch < r.c; ++ch) {
        sg[ch] += gr[ch];
        sgx[ch] += double(gr[ch]) * (double(xr[ch]) - double(mean[ch]));
      }
    }
  };
  auto run = [&](int64_t b, int64_t ch, double& sg, double& sgx) {
    RunSums<T> sums;
    for (int64_t i = r.block_begin(b); i < r.block_end(b); ++i)
      sums.add_gradient(g + r.run_offset(i, ch), x + r.run_offset(i, ch), r.len, mean[ch]);
    sg = sums.first(), sgx = sums.second();
  };
  for_each_block(r, sum_g, sum_gx, rows, run);
}

template <class T>
void batch_norm_backward(const ChannelShape& s, const T* g, const T* x, const T* mean,
                         const T* invstd, const T* weight, bool training, T* gi, T* gw, T* gb) {
  const Runs r(s);
  const int64_t m = s.n * s.s;
  std::vector<T> scale(r.c), zero(r.c, T(0));
  for (int64_t ch = 0; ch < r.c; ++ch) scale[ch] = or_value(weight, ch, T(1)) * invstd[ch];
  if (gi && !training) affine_by_channel(r, g, zero.data(), scale.data(), zero.data(), gi);
  if (!gw && !gb && !(gi && training)) return;
  std::vector<double> block_g(r.blocks * r.c), block_gx(r.blocks * r.c);
  block_gradient_sums(r, g, x, mean, block_g.data(), block_gx.data());
  std::vector<double> sum_g(r.c, 0.0), sum_gx(r.c, 0.0);
  for (int64_t b = 0; b < r.blocks; ++b)
    for (int64_t ch = 0; ch < r.c; ++ch)
      sum_g[ch] += block_g[b * r.c + ch], sum_gx[ch] += block_gx[b * r.c + ch];
  for (int64_t ch = 0; ch < r.c; ++ch) {
    if (gw) gw[ch] = T(sum_gx[ch] * invstd[ch]);
    if (gb) gb[ch] = T(sum_g[ch]);
  }
  if (!gi || !training) return;
  // d/dx of w * (x - mean) * invstd with batch statistics:
  // w * invstd * (g - mean(g) - (x - mean) * invstd^2 * mean(g * (x - mean))), computed as
  // (g - (x - mean) * proj - mean(g)) * (w * invstd), i.e. by channel on g and x together.
  std::vector<T> proj(r.c), mean_g(r.c);
  for (int64_t ch = 0; ch < r.c; ++ch) {
    const double is = invstd[ch];
    proj[ch] = T(sum_gx[ch] / m * is * is);
    mean_g[ch] = T(sum_g[ch] / m);
  }
  if (r.rows) {
    parallel_for(r.count, 6 * r.c, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const T *gr = g + i * r.c, *xr = x + i * r.c;
        T* out = gi + i * r.c;
        for (int64_t ch = 0; ch < r.c; ++ch)
          out[ch] = (gr[ch] - (xr[ch] - mean[ch]) * proj[ch] - mean_g[ch]) * scale[ch];
      }
    });
    return;
  }
  parallel_for(r.count * r.c, 6 * r.len, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t ch = q % r.c;
      const T mu = mean[ch], pr = proj[ch], mg = mean_g[ch], sc = scale[ch];
      const T *gr = g + q * r.len, *xr = x + q * r.len;
      T* out = gi + q * r.len;
      for (int64_t j = 0; j < r.len; ++j) out[j] = (gr[j] - (xr[j] - mu) * pr - mg) * sc;
    }
  });
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void batch_norm_forward_train<T>(const ChannelShape&, const T*, const T*, const T*, \
                                            double, T*, T*, T*);                               \
  template void batch_norm_forward_eval<T>(const ChannelShape&, const T*, const T*, const T*,  \
                                           const T*, const T*, double, T*);                    \
  template void batch_norm_backward<T>(const ChannelShape&, const T*, const T*, const T*,      \
                                       const T*, const T*, bool, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
