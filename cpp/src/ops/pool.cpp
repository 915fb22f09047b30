#include "ember/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ember/eigen_maps.h"
#include "ember/parallel.h"

namespace ember {

namespace {

// Addresses of one (n, c) plane of the input and of the output, in either layout.
struct Plane {
  int64_t in_base, in_row, in_col, out_base, out_row, out_col;
};

Plane plane_of(const PoolShape& s, int64_t nc) {
  const int64_t n = nc / s.c, c = nc % s.c;
  if (s.channels_last)
    return {n * s.h * s.w * s.c + c, s.w * s.c, s.c,
            n * s.out_h * s.out_w * s.c + c, s.out_w * s.c, s.c};
  return {nc * s.h * s.w, s.w, 1, nc * s.out_h * s.out_w, s.out_w, 1};
}

// Runs body(plane) for every (n, c) plane, in parallel over planes.
template <class Body>
void over_planes(const PoolShape& s, int64_t cost_per_plane, const Body& body) {
  parallel_for(s.n * s.c, cost_per_plane, [&](int64_t b, int64_t e) {
    for (int64_t nc = b; nc < e; ++nc) body(plane_of(s, nc));
  });
}

int64_t adaptive_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
int64_t adaptive_end(int64_t o, int64_t in, int64_t out) { return ((o + 1) * in + out - 1) / out; }

// PyTorch's average pooling divisor for the window starting at (y0, x0) before clipping.
struct AvgWindow {
  int64_t y0, y1, x0, x1, divisor;
};
AvgWindow avg_window(const PoolShape& s, int64_t oy, int64_t ox, bool count_include_pad,
                     int64_t divisor_override) {
  int64_t y0 = oy * s.stride_h - s.pad_top, x0 = ox * s.stride_w - s.pad_left;
  int64_t y1 = std::min(y0 + s.kh, s.h + s.pad_bottom), x1 = std::min(x0 + s.kw, s.w + s.pad_right);
  const int64_t padded_size = (y1 - y0) * (x1 - x0);
  y0 = std::max<int64_t>(y0, 0), x0 = std::max<int64_t>(x0, 0);
  y1 = std::min(y1, s.h), x1 = std::min(x1, s.w);
  int64_t divisor = divisor_override > 0 ? divisor_override
                    : count_include_pad ? padded_size : (y1 - y0) * (x1 - x0);
  return {y0, y1, x0, x1, divisor};
}

}  // namespace

// Kernel offsets [lo, hi) whose input position start + k * dilation lies inside [0, size).
struct Span {
  int64_t lo, hi;
};
Span valid_offsets(int64_t start, int64_t kernel, int64_t dilation, int64_t size) {
  const int64_t lo = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const int64_t hi = size > start ? std::min(kernel, (size - start + dilation - 1) / dilation) : 0;
  return {lo, std::max(lo, hi)};
}

// PyTorch's rule: a larger value or a NaN replaces the maximum (so a NaN, once in, stays).
template <class T>
bool replaces(T v, T best) {
  return v > best || v != v;
}

template <class T>
void max_pool2d_forward(const PoolShape& s, const T* input, T* output, int64_t* indices) {
  if (s.channels_last) {
    // NHWC: every channel of a window position is contiguous, so one window is processed for
    // all channels at once (vector compares), in parallel over (sample, output row).
    parallel_for(s.n * s.out_h, s.out_w * s.kh * s.kw * s.c, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const int64_t n = row / s.out_h, oy = row % s.out_h;
        const int64_t y0 = oy * s.stride_h - s.pad_top;
        const Span ys = valid_offsets(y0, s.kh, s.dilation_h, s.h);
        for (int64_t ox = 0; ox < s.out_w; ++ox) {
          const int64_t x0 = ox * s.stride_w - s.pad_left;
          const Span xs = valid_offsets(x0, s.kw, s.dilation_w, s.w);
          T* best = output + ((n * s.out_h + oy) * s.out_w + ox) * s.c;
          int64_t* at = indices + ((n * s.out_h + oy) * s.out_w + ox) * s.c;
          std::fill(best, best + s.c, -std::numeric_limits<T>::infinity());
          std::fill(at, at + s.c, int64_t(-1));
          for (int64_t i = ys.lo; i < ys.hi; ++i)
            for (int64_t j = xs.lo; j < xs.hi; ++j) {
              const int64_t y = y0 + i * s.dilation_h, x = x0 + j * s.dilation_w;
              const T* v = input + ((n * s.h + y) * s.w + x) * s.c;
              const int64_t pos = y * s.w + x;
              for (int64_t c = 0; c < s.c; ++c) {
                const bool take = at[c] < 0 || replaces(v[c], best[c]);
                best[c] = take ? v[c] : best[c];
                at[c] = take ? pos : at[c];
              }
            }
        }
      }
    });
    return;
  }
  over_planes(s, s.out_h * s.out_w * s.kh * s.kw, [&](const Plane& p) {
    const T* x = input + p.in_base;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const int64_t y0 = oy * s.stride_h - s.pad_top;
      const Span ys = valid_offsets(y0, s.kh, s.dilation_h, s.h);
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const int64_t x0 = ox * s.stride_w - s.pad_left;
        const Span xs = valid_offsets(x0, s.kw, s.dilation_w, s.w);
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_at = -1;
        for (int64_t i = ys.lo; i < ys.hi; ++i) {
          const int64_t y = y0 + i * s.dilation_h;
          for (int64_t j = xs.lo; j < xs.hi; ++j) {
            const int64_t pos = y * s.w + x0 + j * s.dilation_w;
            const T v = x[pos];
            // Selects, not a branch: on real data `v > best` is a coin flip, and mispredicted
            // branches cost more than the compares.
            const bool take = best_at < 0 || replaces(v, best);
            best = take ? v : best;
            best_at = take ? pos : best_at;
          }
        }
        const int64_t o = p.out_base + oy * p.out_row + ox;
        output[o] = best;
        indices[o] = best_at;
      }
    }
  });
}

template <class T>
void max_pool2d_backward(const PoolShape& s, const T* grad_output, const int64_t* indices,
                         T* grad_input) {
  over_planes(s, s.out_h * s.out_w + s.h * s.w, [&](const Plane& p) {
    for (int64_t y = 0; y < s.h; ++y)
      for (int64_t x = 0; x < s.w; ++x) grad_input[p.in_base + y * p.in_row + x * p.in_col] = 0;
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const int64_t o = p.out_base + oy * p.out_row + ox * p.out_col;
        const int64_t at = indices[o];
        if (at < 0) continue;
        grad_input[p.in_base + (at / s.w) * p.in_row + (at % s.w) * p.in_col] += grad_output[o];
      }
  });
}

template <class T>
void avg_pool2d_forward(const PoolShape& s, bool count_include_pad, int64_t divisor_override,
                        const T* input, T* output) {
  over_planes(s, s.out_h * s.out_w * s.kh * s.kw, [&](const Plane& p) {
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const AvgWindow win = avg_window(s, oy, ox, count_include_pad, divisor_override);
        T sum = 0;
        for (int64_t y = win.y0; y < win.y1; ++y)
          for (int64_t x = win.x0; x < win.x1; ++x) sum += input[p.in_base + y * p.in_row + x * p.in_col];
        output[p.out_base + oy * p.out_row + ox * p.out_col] = sum / T(win.divisor);
      }
  });
}

template <class T>
void avg_pool2d_backward(const PoolShape& s, bool count_include_pad, int64_t divisor_override,
                         const T* grad_output, T* grad_input) {
  over_planes(s, s.out_h * s.out_w * s.kh * s.kw, [&](const Plane& p) {
    for (int64_t y = 0; y < s.h; ++y)
      for (int64_t x = 0; x < s.w; ++x) grad_input[p.in_base + y * p.in_row + x * p.in_col] = 0;
    for (int64_t oy = 0; oy < s.out_h; ++oy)
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const AvgWindow win = avg_window(s, oy, ox, count_include_pad, divisor_override);
        const T g = grad_output[p.out_base + oy * p.out_row + ox * p.out_col] / T(win.divisor);
        for (int64_t y = win.y0; y < win.y1; ++y)
          for (int64_t x = win.x0; x < win.x1; ++x) grad_input[p.in_base + y * p.in_row + x * p.in_col] += g;
      }
  });
}

// Global average pooling (output 1 x 1, the head of most CNNs): per sample, the mean of each
// channel's h * w values. Both layouts add each channel's values in pixel order (so NCHW and
// NHWC agree bit for bit); NHWC vectorizes across the channels of a pixel, NCHW keeps eight
// channels' independent sums in flight to hide the add latency.
template <class T>
void global_avg_pool2d_forward(const PoolShape& s, const T* input, T* output) {
  const int64_t hw = s.h * s.w, c = s.c;
  constexpr int64_t kLanes = 8;
  parallel_for(s.n, hw * c, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      const T* x = input + n * hw * c;
      T* out = output + n * c;
      if (s.channels_last) {
        std::fill(out, out + c, T(0));
        for (int64_t p = 0; p < hw; ++p)
          for (int64_t ch = 0; ch < c; ++ch) out[ch] += x[p * c + ch];
      } else {
        for (int64_t c0 = 0; c0 < c; c0 += kLanes) {
          const int64_t lanes = std::min(kLanes, c - c0);
          T sum[kLanes] = {};
          for (int64_t p = 0; p < hw; ++p)
            for (int64_t j = 0; j < lanes; ++j) sum[j] += x[(c0 + j) * hw + p];
          std::copy(sum, sum + lanes, out + c0);
        }
      }
      for (int64_t ch = 0; ch < c; ++ch) out[ch] /= T(hw);
    }
  });
}

template <class T>
void global_avg_pool2d_backward(const PoolShape& s, const T* grad_output, T* grad_input) {
  const int64_t hw = s.h * s.w;
  parallel_for(s.n, hw * s.c, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      const auto g = ConstVectorMap<T>(grad_output + n * s.c, s.c) / T(hw);
      T* gx = grad_input + n * hw * s.c;
      if (s.channels_last)
        MatrixMap<T>(gx, hw, s.c).rowwise() = g.transpose();
      else
        MatrixMap<T>(gx, s.c, hw).colwise() = g;
    }
  });
}

template <class T>
void adaptive_avg_pool2d_forward(const PoolShape& s, const T* input, T* output) {
  if (s.out_h == 1 && s.out_w == 1) return global_avg_pool2d_forward(s, input, output);
  over_planes(s, s.h * s.w + s.out_h * s.out_w, [&](const Plane& p) {
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const int64_t y0 = adaptive_start(oy, s.h, s.out_h), y1 = adaptive_end(oy, s.h, s.out_h);
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const int64_t x0 = adaptive_start(ox, s.w, s.out_w), x1 = adaptive_end(ox, s.w, s.out_w);
        T sum = 0;
        for (int64_t y = y0; y < y1; ++y)
          for (int64_t x = x0; x < x1; ++x) sum += input[p.in_base + y * p.in_row + x * p.in_col];
        output[p.out_base + oy * p.out_row + ox * p.out_col] = sum / T((y1 - y0) * (x1 - x0));
      }
    }
  });
}

template <class T>
void adaptive_avg_pool2d_backward(const PoolShape& s, const T* grad_output, T* grad_input) {
  if (s.out_h == 1 && s.out_w == 1) return global_avg_pool2d_backward(s, grad_output, grad_input);
  over_planes(s, s.h * s.w + s.out_h * s.out_w, [&](const Plane& p) {
    for (int64_t y = 0; y < s.h; ++y)
      for (int64_t x = 0; x < s.w; ++x) grad_input[p.in_base + y * p.in_row + x * p.in_col] = 0;
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const int64_t y0 = adaptive_start(oy, s.h, s.out_h), y1 = adaptive_end(oy, s.h, s.out_h);
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const int64_t x0 = adaptive_start(ox, s.w, s.out_w), x1 = adaptive_end(ox, s.w, s.out_w);
        const T g = grad_output[p.out_base + oy * p.out_row + ox * p.out_col] /
                    T((y1 - y0) * (x1 - x0));
        for (int64_t y = y0; y < y1; ++y)
          for (int64_t x = x0; x < x1; ++x) grad_input[p.in_base + y * p.in_row + x * p.in_col] += g;
      }
    }
  });
}

template <class T>
void adaptive_max_pool2d_forward(const PoolShape& s, const T* input, T* output,
                                 int64_t* indices) {
  over_planes(s, s.h * s.w + s.out_h * s.out_w, [&](const Plane& p) {
    for (int64_t oy = 0; oy < s.out_h; ++oy) {
      const int64_t y0 = adaptive_start(oy, s.h, s.out_h), y1 = adaptive_end(oy, s.h, s.out_h);
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const int64_t x0 = adaptive_start(ox, s.w, s.out_w), x1 = adaptive_end(ox, s.w, s.out_w);
        T best = input[p.in_base + y0 * p.in_row + x0 * p.in_col];
        int64_t best_at = y0 * s.w + x0;
        for (int64_t y = y0; y < y1 && !std::isnan(best); ++y)
          for (int64_t x = x0; x < x1; ++x) {
            const T v = input[p.in_base + y * p.in_row + x * p.in_col];
            if (v > best || std::isnan(v)) {
              best = v, best_at = y * s.w + x;
              if (std::isnan(v)) break;
            }
          }
        const int64_t o = p.out_base + oy * p.out_row + ox * p.out_col;
        output[o] = best;
        indices[o] = best_at;
      }
    }
  });
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void max_pool2d_forward<T>(const PoolShape&, const T*, T*, int64_t*);                \
  template void max_pool2d_backward<T>(const PoolShape&, const T*, const int64_t*, T*);         \
  template void avg_pool2d_forward<T>(const PoolShape&, bool, int64_t, const T*, T*);           \
  template void avg_pool2d_backward<T>(const PoolShape&, bool, int64_t, const T*, T*);          \
  template void adaptive_avg_pool2d_forward<T>(const PoolShape&, const T*, T*);                 \
  template void adaptive_avg_pool2d_backward<T>(const PoolShape&, const T*, T*);                \
  template void adaptive_max_pool2d_forward<T>(const PoolShape&, const T*, T*, int64_t*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
