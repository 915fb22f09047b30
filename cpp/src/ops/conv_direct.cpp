#include "ember/conv_direct.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "ember/im2col.h"
#include "ember/parallel.h"
#include "ember/simd.h"

namespace ember {

bool conv2d_direct_applies(const ConvShape& s) {
  return s.c_in == 1 && s.groups == 1 && s.stride_h == 1 && s.stride_w == 1 &&
         s.dilation_h == 1 && s.dilation_w == 1;
}

namespace {

using namespace simd;

// Sample n's plane with its zero padding; row stride `width` (padded width plus a vector of
// slack, so full-vector loads past a row's end stay inside the buffer).
template <class T>
struct PaddedPlane {
  std::vector<T> data;
  int64_t width;
  PaddedPlane(const ConvShape& s, const T* plane) {
    const int64_t ph = s.h + s.pad_top + s.pad_bottom;
    width = s.w + s.pad_left + s.pad_right;
    data.assign((ph + 1) * width + 2 * lanes<T>, T(0));
    for (int64_t y = 0; y < s.h; ++y)
      std::copy(plane + y * s.w, plane + (y + 1) * s.w,
                data.data() + (y + s.pad_top) * width + s.pad_left);
  }
  const T* row(int64_t y) const { return data.data() + y * width; }
};

template <class T>
inline Vec<T> relu_vec(const Vec<T>& v) {
  return v < T(0) ? Vec<T>{} : v;  // NaN stays NaN, as torch.relu
}


// Register tiles: as many independent accumulators as the level's vector registers allow
// (32 with AVX-512, 16 below it), so that the FMAs' latency is hidden.
constexpr bool kManyRegisters = kBytes == 64;

// NCHW: blocks of kWide output channels, the last kNarrow or fewer in a narrower one.
constexpr int kWide = kManyRegisters ? 8 : 6, kNarrow = 4;

struct ChannelBlock {
  int64_t first;  // output channel
  int count;      // real channels
  int width;      // kWide or kNarrow: the kernel's channels, zero-padded past count
};

inline std::vector<ChannelBlock> channel_blocks(int64_t c_out) {
  std::vector<ChannelBlock> blocks;
  for (int64_t co0 = 0; co0 < c_out;) {
    const int width = c_out - co0 > kNarrow ? kWide : kNarrow;
    const int count = int(std::min<int64_t>(width, c_out - co0));
    blocks.push_back({co0, count, width});
    co0 += count;
  }
  return blocks;
}

// The weight and bias regrouped per block as (taps, width) weights then width biases, zero past
// c_out, so the kernel's inner loop reads its weights unconditionally and contiguously (with a
// bounds check per weight, GCC kept the accumulators in memory: 2x slower with AVX2).
template <class T>
struct ChannelBlockWeight {
  std::vector<T> data;
  std::vector<int64_t> offset;  // of each block's weights in data
  ChannelBlockWeight(const ConvShape& s, const T* weight, const T* bias,
                     const std::vector<ChannelBlock>& blocks) {
    const int64_t taps = s.kh * s.kw;
    int64_t size = 0;
    for (const ChannelBlock& b : blocks) offset.push_back(size), size += (taps + 1) * b.width;
    data.assign(size, T(0));
    for (size_t g = 0; g < blocks.size(); ++g) {
      T* d = data.data() + offset[g];
      const int k = blocks[g].width;
      for (int b = 0; b < blocks[g].count; ++b) {
        const int64_t co = blocks[g].first + b;
        for (int64_t t = 0; t < taps; ++t) d[t * k + b] = weight[co * taps + t];
        if (bias) d[taps * k + b] = bias[co];
      }
    }
  }
  const T* block(size_t g) const { return data.data() + offset[g]; }
};

// kCo output channels (co_n of them real) of one output row at a time, two vectors of columns
// per step; w is the block's (taps, kCo) weights followed by its kCo biases.
template <int kCo, class T>
void forward_nchw_channels(const ConvShape& s, const PaddedPlane<T>& x, const T* w, int64_t co0,
                           int co_n, T* out, bool relu) {
  constexpr int L = lanes<T>;
  const int64_t oh = s.out_h(), ow = s.out_w(), taps = s.kh * s.kw;
  const T* bias = w + taps * kCo;
  for (int64_t y = 0; y < oh; ++y)
    for (int64_t x0 = 0; x0 < ow; x0 += 2 * L) {
      const int m0 = int(std::min<int64_t>(L, ow - x0));
      const int m1 = int(std::clamp<int64_t>(ow - x0 - L, 0, L));
      Vec<T> acc[kCo][2];
#pragma GCC unroll 16
      for (int b = 0; b < kCo; ++b) acc[b][0] = Vec<T>{} + bias[b], acc[b][1] = acc[b][0];
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) {
          const T* r = x.row(y + i) + x0 + j;
          const T* wt = w + (i * s.kw + j) * kCo;
          const Vec<T> v0 = load<Vec<T>>(r), v1 = load<Vec<T>>(r + L);  // slack covers it
#pragma GCC unroll 16
          for (int b = 0; b < kCo; ++b) acc[b][0] += wt[b] * v0, acc[b][1] += wt[b] * v1;
        }
      for (int b = 0; b < co_n; ++b) {
        T* o = out + ((co0 + b) * oh + y) * ow + x0;
        store_first(o, relu ? relu_vec<T>(acc[b][0]) : acc[b][0], m0);
        if (m1 > 0) store_first(o + L, relu ? relu_vec<T>(acc[b][1]) : acc[b][1], m1);
      }
    }
}

template <class T>
void forward_nchw_sample(const ConvShape& s, const PaddedPlane<T>& x,
                         const std::vector<ChannelBlock>& blocks,
                         const ChannelBlockWeight<T>& weight, T* out, bool relu) {
  for (size_t g = 0; g < blocks.size(); ++g) {
    const ChannelBlock& b = blocks[g];
    if (b.width == kWide)
      forward_nchw_channels<kWide>(s, x, weight.block(g), b.first, b.count, out, relu);
    else
      forward_nchw_channels<kNarrow>(s, x, weight.block(g), b.first, b.count, out, relu);
  }
}

// The weight tap-major, (kh * kw, c_out) with rows padded to whole tiles of channel vectors,
// for NHWC.
template <class T>
struct TapMajorWeight {
  std::vector<T> data;
  int64_t stride;
  TapMajorWeight(const ConvShape& s, const T* weight, int64_t tile) {
    const int64_t taps = s.kh * s.kw;
    stride = (s.c_out + tile - 1) / tile * tile;
    data.assign(taps * stride, T(0));
    for (int64_t co = 0; co < s.c_out; ++co)
      for (int64_t t = 0; t < taps; ++t) data[t * stride + co] = weight[co * taps + t];
  }
  const T* tap(int64_t t) const { return data.data() + t * stride; }
};

// NHWC: kPx output pixels by kCv vectors of output channels at a time.
constexpr int kNhwcVectors = 2, kNhwcPixels = kManyRegisters ? 8 : 6;

template <class T>
void forward_nhwc_sample(const ConvShape& s, const PaddedPlane<T>& x,
                         const TapMajorWeight<T>& weight, const T* bias, T* out, bool relu) {
  constexpr int L = lanes<T>, kCv = kNhwcVectors, kPx = kNhwcPixels;
  const int64_t oh = s.out_h(), ow = s.out_w(), c = s.c_out;
  for (int64_t c0 = 0; c0 < c; c0 += kCv * L) {
    int cn[kCv];  // channels of each vector that exist
    Vec<T> b[kCv];
    for (int v = 0; v < kCv; ++v) {
      cn[v] = int(std::clamp<int64_t>(c - c0 - v * L, 0, L));
      b[v] = bias ? load_first<Vec<T>>(bias + c0 + v * L, cn[v]) : Vec<T>{};
    }
    for (int64_t y = 0; y < oh; ++y)
      for (int64_t x0 = 0; x0 < ow; x0 += kPx) {
        const int px_n = int(std::min<int64_t>(kPx, ow - x0));
        Vec<T> acc[kPx][kCv];
        for (int p = 0; p < kPx; ++p)
          for (int v = 0; v < kCv; ++v) acc[p][v] = b[v];
        for (int64_t i = 0; i < s.kh; ++i)
          for (int64_t j = 0; j < s.kw; ++j) {
            const T* tap = weight.tap(i * s.kw + j) + c0;
            Vec<T> wv[kCv];  // zero past c_out: the rows are padded to whole tiles
            for (int v = 0; v < kCv; ++v) wv[v] = load<Vec<T>>(tap + v * L);
            const T* r = x.row(y + i) + x0 + j;
            for (int p = 0; p < kPx; ++p)  // the slack covers p >= px_n
              for (int v = 0; v < kCv; ++v) acc[p][v] += r[p] * wv[v];
          }
        for (int p = 0; p < px_n; ++p)
          for (int v = 0; v < kCv && cn[v] > 0; ++v)
            store_first(out + (y * ow + x0 + p) * c + c0 + v * L,
                        relu ? relu_vec<T>(acc[p][v]) : acc[p][v], cn[v]);
      }
  }
}

// ---- weight and bias gradients (the input needs none: the first layer)
// Each sample's gradient is formed whole (kTaps taps at a time, each tap's sum over all output
// positions in vector accumulators), then the samples' gradients are added in sample order, so
// the result does not depend on the thread count.
constexpr int kTaps = 9;

template <class T>
inline Vec<T> masked_grad(const T* g, const T* y, int count) {
  const Vec<T> gv = load_first<Vec<T>>(g, count);
  return y ? (load_first<Vec<T>>(y, count) > T(0) ? gv : Vec<T>{}) : gv;
}

// NCHW: the sample's im2col rows (taps, P), then per output channel the dot products of its
// grad_output plane with kTaps rows at once. The positions go in blocks whose im2col rows stay
// in L1 across all output channels (read whole for each channel, the rows of a 24x24 plane
// streamed from L2: the loads, not the FMAs, bounded it), with the accumulators kept in
// memory between blocks.
template <class T>
void params_grad_nchw_sample(const ConvShape& s, const T* x, const T* g, const T* y, T* col,
                             T* gw, T* gb) {
  constexpr int L = lanes<T>;
  constexpr int64_t kBlock = 8 * L;
  const ConvSlice sl(s);
  const int64_t taps = s.kh * s.kw, p = sl.p, full = p / L * L;
  const int64_t groups = (taps + kTaps - 1) / kTaps, per_channel = groups * kTaps + 1;
  im2col_rows(sl, x, col, p);
  // Per output channel: kTaps accumulators per tap group (past the last tap: the last row
  // again, never stored), then the bias's.
  std::vector<Vec<T>> acc(s.c_out * per_channel, Vec<T>{});
  for (int64_t q0 = 0; q0 < full; q0 += kBlock) {
    const int64_t q1 = std::min(full, q0 + kBlock);
    for (int64_t co = 0; co < s.c_out; ++co) {
      const T* gc = g + co * p;
      const T* yc = y ? y + co * p : nullptr;
      Vec<T>* a = acc.data() + co * per_channel;
      Vec<T>& bias = a[per_channel - 1];
      for (int64_t t0 = 0; t0 < taps; t0 += kTaps) {
        const T* rows[kTaps];
        for (int t = 0; t < kTaps; ++t) rows[t] = col + std::min<int64_t>(t0 + t, taps - 1) * p;
        Vec<T> r[kTaps], b = bias;
        for (int t = 0; t < kTaps; ++t) r[t] = a[t0 + t];
        for (int64_t q = q0; q < q1; q += L) {
          Vec<T> gv = load<Vec<T>>(gc + q);
          if (yc) gv = load<Vec<T>>(yc + q) > T(0) ? gv : Vec<T>{};
          if (t0 == 0) b += gv;
#pragma GCC unroll 9
          for (int t = 0; t < kTaps; ++t) r[t] += gv * load<Vec<T>>(rows[t] + q);
        }
        for (int t = 0; t < kTaps; ++t) a[t0 + t] = r[t];
        if (t0 == 0) bias = b;
      }
    }
  }
  // The last p - full positions one by one (masked vector loads made GCC keep the accumulators
  // in memory).
  for (int64_t co = 0; co < s.c_out; ++co) {
    const T* gc = g + co * p;
    const T* yc = y ? y + co * p : nullptr;
    const Vec<T>* a = acc.data() + co * per_channel;
    T bias = T(0);
    for (int64_t t = 0; t < taps; ++t) {
      T sum = T(0);
      for (int64_t q = full; q < p; ++q) {
        const T gq = yc && !(yc[q] > T(0)) ? T(0) : gc[q];
        if (t == 0) bias += gq;
        sum += gq * col[t * p + q];
      }
      gw[co * taps + t] = lane_sum<T>(a[t]) + sum;
    }
    if (gb) gb[co] = lane_sum<T>(a[per_channel - 1]) + bias;
  }
}

// NHWC: per output pixel, the channel vectors of grad_output times each tap's input value.
template <class T>
void params_grad_nhwc_sample(const ConvShape& s, const PaddedPlane<T>& x, const T* g,
                             const T* y, T* gw_tap_major, int64_t stride, T* gb) {
  constexpr int L = lanes<T>;
  const int64_t oh = s.out_h(), ow = s.out_w(), taps = s.kh * s.kw, c = s.c_out;
  for (int64_t c0 = 0; c0 < c; c0 += L) {
    const int cn = int(std::min<int64_t>(L, c - c0));
    Vec<T> bias_acc{};
    for (int64_t t0 = 0; t0 < taps; t0 += kTaps) {
      int64_t off[kTaps];
      for (int t = 0; t < kTaps; ++t) {
        const int64_t tap = std::min<int64_t>(t0 + t, taps - 1);
        off[t] = (tap / s.kw) * x.width + tap % s.kw;
      }
      Vec<T> acc[kTaps] = {};
      for (int64_t oy = 0; oy < oh; ++oy) {
        const T* r = x.row(oy);
        for (int64_t ox = 0; ox < ow; ++ox) {
          const int64_t at = (oy * ow + ox) * c + c0;
          const Vec<T> gv = masked_grad(g + at, y ? y + at : nullptr, cn);
          if (t0 == 0) bias_acc += gv;
#pragma GCC unroll 9
          for (int t = 0; t < kTaps; ++t) acc[t] += r[ox + off[t]] * gv;
        }
      }
      for (int t = 0; t < kTaps && t0 + t < taps; ++t)
        store_first(gw_tap_major + (t0 + t) * stride + c0, acc[t], cn);
    }
    if (gb) store_first(gb + c0, bias_acc, cn);
  }
}

}  // namespace

template <class T>
void conv2d_direct_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                           T* output, bool relu) {
  const int64_t out_size = s.c_out * s.out_h() * s.out_w();
  std::optional<TapMajorWeight<T>> weight_t;
  std::optional<ChannelBlockWeight<T>> weight_b;
  const auto blocks = channel_blocks(s.c_out);
  if (s.channels_last)
    weight_t.emplace(s, weight, kNhwcVectors * lanes<T>);
  else
    weight_b.emplace(s, weight, bias, blocks);
  parallel_for(s.n, 2 * out_size * s.kh * s.kw, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      const PaddedPlane<T> x(s, input + n * s.h * s.w);
      if (s.channels_last)
        forward_nhwc_sample(s, x, *weight_t, bias, output + n * out_size, relu);
      else
        forward_nchw_sample(s, x, blocks, *weight_b, output + n * out_size, relu);
    }
  });
}

template <class T>
void conv2d_direct_backward_params(const ConvShape& s, const T* grad_output, const T* input,
                                   const T* relu_output, T* grad_weight, T* grad_bias) {
  const int64_t taps = s.kh * s.kw, w_size = s.c_out * taps;
  const int64_t out_size = s.c_out * s.out_h() * s.out_w(), per_sample = w_size + s.c_out;
  std::vector<T> partial(s.n * per_sample, T(0));
  parallel_for(s.n, 2 * out_size * taps, [&](int64_t b, int64_t e) {
    std::vector<T> col(s.channels_last ? 0 : taps * s.out_h() * s.out_w());
    for (int64_t n = b; n < e; ++n) {
      const T* x = input + n * s.h * s.w;
      const T* g = grad_output + n * out_size;
      const T* y = relu_output ? relu_output + n * out_size : nullptr;
      T* gw = partial.data() + n * per_sample;
      T* gb = grad_bias ? gw + w_size : nullptr;
      if (s.channels_last)
        params_grad_nhwc_sample(s, PaddedPlane<T>(s, x), g, y, gw, s.c_out, gb);  // (taps, c_out)
      else
        params_grad_nchw_sample(s, x, g, y, col.data(), gw, gb);
    }
  });
  // Sample order, whatever the threads: equal for any thread count.
  std::vector<T> sum(per_sample, T(0));
  for (int64_t n = 0; n < s.n; ++n)
    for (int64_t i = 0; i < per_sample; ++i) sum[i] += partial[n * per_sample + i];
  if (grad_weight) {
    for (int64_t co = 0; co < s.c_out; ++co)
      for (int64_t t = 0; t < taps; ++t)
        grad_weight[co * taps + t] = s.channels_last ? sum[t * s.c_out + co] : sum[co * taps + t];
  }
  if (grad_bias) std::copy(sum.begin() + w_size, sum.end(), grad_bias);
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void conv2d_direct_forward<T>(const ConvShape&, const T*, const T*, const T*, T*,  \
                                         bool);                                                \
  template void conv2d_direct_backward_params<T>(const ConvShape&, const T*, const T*,        \
                                                 const T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
