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
#include <type_traits>
#include <vector>

#include "ember/norm.h"
#include "ember/parallel.h"
#include "ember/simd.h"

namespace ember {

namespace {

constexpr int64_t kBlockValues = 8192;  // values per statistics block: it stays in L1/L2

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
constexpr int kAccLanes = simd::lanes<double>;

// Values of T (float or double) read as vectors of doubles.
template <class T>
Acc load_as_double(const T* p) {
  typedef T Val __attribute__((vector_size(kAccLanes * sizeof(T))));
  return __builtin_convertvector(simd::load<Val>(p), Acc);
}
#if defined(__AVX512F__)
// GCC 12 splits the generic conversion of 8 floats into two 4-wide ones and a shuffle.
template <>
Acc load_as_double(const float* p) {
  return _mm512_cvtps_pd(_mm256_loadu_ps(p));
}
#endif

// What the reductions add per value x (with its gradient g, its channel's mean and the
// forward output y), into one or two sums: on vectors of doubles or on doubles alike.
struct SumOfValues {
  template <class V>
  static void add(V& a, V&, V x, V, V, V) { a += x; }
};
struct SquaredDeviations {
  template <class V>
  static void add(V& a, V&, V x, V, V mean, V) { const V d = x - mean; a += d * d; }
};
struct GradientSums {  // sum(g) and sum(g * (x - mean))
  template <class V>
  static void add(V& a, V& b, V x, V g, V mean, V) { a += g, b += g * (x - mean); }
};
struct GradientSumsAfterRelu {  // the same for g masked by ReLU's output y > 0
  template <class V>
  static void add(V& a, V& b, V x, V g, V mean, V y) {
    GradientSums::add(a, b, x, y > 0 ? g : V{}, mean, y);
  }
};

// Channels last: adds rows [begin, end) of x, g and y (c values each; g and y are read only
// when Term uses them) into a[ch] and b[ch] (b may be null when Term uses one sum), with
// mean[ch] (null: unused). The sums of a tile of channels stay in registers across the rows;
// each channel is summed in row order.
template <class Term, class T>
void add_rows(int64_t c, int64_t begin, int64_t end, const T* x, const T* g, const T* y,
              const double* mean, double* a, double* b) {
  auto tile = [&](int64_t c0, auto vectors) {
    constexpr int w = decltype(vectors)::value;
    Acc sa[w], sb[w], mu[w];
    for (int k = 0; k < w; ++k) {
      const int64_t at = c0 + k * kAccLanes;
      sa[k] = simd::load<Acc>(a + at);
      sb[k] = b ? simd::load<Acc>(b + at) : Acc{};
      mu[k] = mean ? simd::load<Acc>(mean + at) : Acc{};
    }
    for (int64_t i = begin; i < end; ++i) {
      const int64_t at = i * c + c0;
      for (int k = 0; k < w; ++k)
        Term::add(sa[k], sb[k], load_as_double(x + at + k * kAccLanes),
                  load_as_double(g + at + k * kAccLanes), mu[k],
                  load_as_double(y + at + k * kAccLanes));
    }
    for (int k = 0; k < w; ++k) {
      simd::store(a + c0 + k * kAccLanes, sa[k]);
      if (b) simd::store(b + c0 + k * kAccLanes, sb[k]);
    }
  };
  constexpr int kTile = 4;  // vectors of channels per tile: 4 x 2 sums + 4 means in registers
  int64_t c0 = 0;
  for (; c0 + kTile * kAccLanes <= c; c0 += kTile * kAccLanes)
    tile(c0, std::integral_constant<int, kTile>{});
  for (; c0 + kAccLanes <= c; c0 += kAccLanes) tile(c0, std::integral_constant<int, 1>{});
  for (; c0 < c; ++c0) {
    double sa = a[c0], sb = b ? b[c0] : 0;
    const double mu = mean ? mean[c0] : 0;
    for (int64_t i = begin; i < end; ++i)
      Term::add(sa, sb, double(x[i * c + c0]), double(g[i * c + c0]), mu,
                double(y[i * c + c0]));
    a[c0] = sa;
    if (b) b[c0] = sb;
  }
}

// Channels first: the sums by Term over the runs of channel ch in samples [begin, end) of x,
// g and y, returned in a and b. Four vectors of accumulators per sum, so that the additions
// do not wait on each other; the order is fixed by the positions alone.
template <class Term, class T>
void add_runs(const Runs& r, int64_t begin, int64_t end, int64_t ch, const T* x, const T* g,
              const T* y, double mean, double& a, double& b) {
  constexpr int kUnroll = 4;
  Acc sa[kUnroll] = {}, sb[kUnroll] = {};
  const Acc mu = Acc{} + mean;
  double ta = 0, tb = 0;
  for (int64_t i = begin; i < end; ++i) {
    const int64_t at = r.run_offset(i, ch);
    const T *xr = x + at, *gr = g + at, *yr = y + at;
    int64_t j = 0;
    for (; j + kUnroll * kAccLanes <= r.len; j += kUnroll * kAccLanes)
      for (int k = 0; k < kUnroll; ++k) {
        const int64_t q = j + k * kAccLanes;
        Term::add(sa[k], sb[k], load_as_double(xr + q), load_as_double(gr + q), mu,
                  load_as_double(yr + q));
      }
    for (; j + kAccLanes <= r.len; j += kAccLanes)
      Term::add(sa[0], sb[0], load_as_double(xr + j), load_as_double(gr + j), mu,
                load_as_double(yr + j));
    for (; j < r.len; ++j)
      Term::add(ta, tb, double(xr[j]), double(gr[j]), mean, double(yr[j]));
  }
  auto total = [](const Acc* s, double tail) {
    const Acc v = (s[0] + s[1]) + (s[2] + s[3]);
    double sum = 0;
    for (int l = 0; l < kAccLanes; ++l) sum += v[l];
    return sum + tail;
  };
  a = total(sa, ta), b = total(sb, tb);
}

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
    add_rows<SumOfValues>(r.c, begin, end, x, x, x, nullptr, mu, nullptr);
    const double inv_count = 1.0 / double(end - begin);
    for (int64_t ch = 0; ch < r.c; ++ch) mu[ch] *= inv_count;
    add_rows<SquaredDeviations>(r.c, begin, end, x, x, x, mu, sq, nullptr);
  };
  auto run = [&](int64_t b, int64_t ch, double& mu, double& sq) {
    double unused;
    add_runs<SumOfValues>(r, r.block_begin(b), r.block_end(b), ch, x, x, x, 0.0, mu, unused);
    mu /= double(r.block_values(b));
    add_runs<SquaredDeviations>(r, r.block_begin(b), r.block_end(b), ch, x, x, x, mu, sq,
                                unused);
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

// out[k] = value(k, ch) for every value k of channel ch, in parallel: channels last the inner
// loop runs over the channels of a row, channels first along a run of one channel. (`value`
// should capture its pointers by value: a pointer captured by reference is reloaded after
// every store to out, and the loop is not vectorized.)
template <class T, class Value>
void set_each_value(const Runs& r, int64_t cost, T* out, Value value) {
  if (r.rows) {
    parallel_for(r.count, cost * r.c, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t ch = 0; ch < r.c; ++ch) out[i * r.c + ch] = value(i * r.c + ch, ch);
    });
    return;
  }
  parallel_for(r.count * r.c, cost * r.len, [&](int64_t q0, int64_t q1) {
    for (int64_t q = q0; q < q1; ++q)
      for (int64_t k = q * r.len; k < (q + 1) * r.len; ++k) out[k] = value(k, q % r.c);
  });
}

// Calls f(std::true_type) or f(std::false_type): a loop body specialized on a flag.
template <class F>
void with_flag(bool flag, F f) {
  if (flag)
    f(std::true_type{});
  else
    f(std::false_type{});
}

// ReLU as PyTorch computes it: NaN stays NaN.
template <class T>
T relu(T v) {
  return v < T(0) ? T(0) : v;
}

// g[k], or 0 where the fused ReLU's output y[k] is not positive when `masked`: both loads
// unconditional, so that the loop vectorizes.
template <class Masked, class T>
T masked_by_relu(Masked, const T* g, const T* y, int64_t k) {
  if constexpr (Masked::value) {
    const T gk = g[k];
    return y[k] > T(0) ? gk : T(0);
  }
  return g[k];
}

// out = (in - center[ch]) * scale[ch] + offset[ch], then ReLU if asked.
template <class T>
void normalize(const Runs& r, const T* in, const T* center, const T* scale, const T* offset,
               bool fuse_relu, T* out) {
  with_flag(fuse_relu, [&](auto relu_flag) {
    set_each_value(r, 3, out, [=](int64_t k, int64_t ch) {
      const T v = (in[k] - center[ch]) * scale[ch] + offset[ch];
      return decltype(relu_flag)::value ? relu(v) : v;
    });
  });
}

template <class T>
T or_value(const T* p, int64_t i, T value) {
  return p ? p[i] : value;
}

}  // namespace

template <class T>
void batch_norm_forward_train(const ChannelShape& s, const T* x, const T* weight, const T* bias,
                              double eps, bool fuse_relu, T* y, T* mean, T* var) {
  const Runs r(s);
  std::vector<double> block_mean(r.blocks * r.c), block_m2(r.blocks * r.c), mu(r.c), v(r.c);
  block_statistics(r, x, block_mean.data(), block_m2.data());
  merge_blocks(r, block_mean.data(), block_m2.data(), mu.data(), v.data());
  std::vector<T> scale(r.c), offset(r.c);
  for (int64_t ch = 0; ch < r.c; ++ch) {
    mean[ch] = T(mu[ch]), var[ch] = T(v[ch]);
    scale[ch] = T(1 / std::sqrt(v[ch] + eps)) * or_value(weight, ch, T(1));
    offset[ch] = or_value(bias, ch, T(0));
  }
  normalize(r, x, mean, scale.data(), offset.data(), fuse_relu, y);
}

template <class T>
void batch_norm_forward_eval(const ChannelShape& s, const T* x, const T* mean, const T* var,
                             const T* weight, const T* bias, double eps, bool fuse_relu, T* y) {
  const Runs r(s);
  std::vector<T> scale(r.c), offset(r.c);
  for (int64_t ch = 0; ch < r.c; ++ch) {
    scale[ch] = T(1 / std::sqrt(double(var[ch]) + eps)) * or_value(weight, ch, T(1));
    offset[ch] = or_value(bias, ch, T(0));
  }
  normalize(r, x, mean, scale.data(), offset.data(), fuse_relu, y);
}

// Per block and channel: sum(g) and sum(g * (x - mean)), g masked by relu_output > 0 if given.
template <class Term, class T>
void block_gradient_sums(const Runs& r, const T* g, const T* x, const T* relu_output,
                         const T* mean, double* sum_g, double* sum_gx) {
  const std::vector<double> mu(mean, mean + r.c);
  const T* y = relu_output ? relu_output : x;  // (read only by GradientSumsAfterRelu)
  auto rows = [&](int64_t begin, int64_t end, double* sg, double* sgx) {
    add_rows<Term>(r.c, begin, end, x, g, y, mu.data(), sg, sgx);
  };
  auto run = [&](int64_t b, int64_t ch, double& sg, double& sgx) {
    add_runs<Term>(r, r.block_begin(b), r.block_end(b), ch, x, g, y, mu[ch], sg, sgx);
  };
  for_each_block(r, sum_g, sum_gx, rows, run);
}

template <class T>
void batch_norm_backward(const ChannelShape& s, const T* g, const T* x, const T* mean,
                         const T* invstd, const T* weight, const T* relu_output, bool training,
                         T* gi, T* gw, T* gb) {
  const Runs r(s);
  const int64_t m = s.n * s.s;
  const T* y = relu_output;
  std::vector<T> scale(r.c);
  for (int64_t ch = 0; ch < r.c; ++ch) scale[ch] = or_value(weight, ch, T(1)) * invstd[ch];
  if (gi && !training) {  // gi = g * w * invstd (g masked by the ReLU output)
    with_flag(y != nullptr, [&](auto masked) {
      set_each_value(r, 2, gi, [=, scale = scale.data()](int64_t k, int64_t ch) {
        return masked_by_relu(masked, g, y, k) * scale[ch];
      });
    });
  }
  if (!gw && !gb && !(gi && training)) return;
  std::vector<double> block_g(r.blocks * r.c), block_gx(r.blocks * r.c);
  if (y)
    block_gradient_sums<GradientSumsAfterRelu>(r, g, x, y, mean, block_g.data(), block_gx.data());
  else
    block_gradient_sums<GradientSums>(r, g, x, y, mean, block_g.data(), block_gx.data());
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
  with_flag(y != nullptr, [&](auto masked) {
    set_each_value(r, 6, gi, [=, proj = proj.data(), mean_g = mean_g.data(),
                              scale = scale.data()](int64_t k, int64_t ch) {
      return (masked_by_relu(masked, g, y, k) - (x[k] - mean[ch]) * proj[ch] - mean_g[ch]) *
             scale[ch];
    });
  });
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void batch_norm_forward_train<T>(const ChannelShape&, const T*, const T*, const T*, \
                                            double, bool, T*, T*, T*);                         \
  template void batch_norm_forward_eval<T>(const ChannelShape&, const T*, const T*, const T*,  \
                                           const T*, const T*, double, bool, T*);              \
  template void batch_norm_backward<T>(const ChannelShape&, const T*, const T*, const T*,      \
                                       const T*, const T*, const T*, bool, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
