#include "ember/pool_tiled.h"

#include <algorithm>

#include "ember/parallel.h"
#include "ember/simd.h"

namespace ember {

bool windows_tile(const PoolShape& s) {
  return s.stride_h == s.kh && s.stride_w == s.kw && s.dilation_h == 1 && s.dilation_w == 1 &&
         s.pad_top == 0 && s.pad_bottom == 0 && s.pad_left == 0 && s.pad_right == 0 &&
         s.out_h * s.kh <= s.h && s.out_w * s.kw <= s.w;
}

namespace {

using namespace simd;

// PyTorch's rule, as in pool.cpp: scanning a window row by row, a larger value or a NaN
// replaces the maximum, so the first of equal maxima and the last NaN win. Written as selects:
// on real data `v > best` is a coin flip.
template <class T>
inline bool replaces(T v, T best) {
  return (v > best) | (v != v);
}
template <class T>
inline Mask<T> replaces(const Vec<T>& v, const Vec<T>& best) {
  return (v > best) | (v != v);
}

// ---------------------------------------------------------------- NCHW, 2-wide windows
// `count` (<= lanes) windows 2 wide and KH (1 or 2) high over rows x and x + w: their maxima
// and where each lies (code 2 * row + column). Short rows end with masked loads.
template <class T, int KH>
inline void windows_x2(const T* x, int64_t w, int count, Vec<T>& best, Mask<T>& code) {
  constexpr int n = lanes<T>;
  auto row = [&](const T* r, Vec<T>& even, Vec<T>& odd) {
    if (count == n)
      deinterleave<T>(load<Vec<T>>(r), load<Vec<T>>(r + n), even, odd);
    else
      deinterleave<T>(load_first<Vec<T>>(r, std::min(2 * count, n)),
                      load_first<Vec<T>>(r + n, std::max(0, 2 * count - n)), even, odd);
  };
  Vec<T> odd;
  row(x, best, odd);
  code = Mask<T>{};
  Mask<T> take = replaces<T>(odd, best);
  best = take ? odd : best, code = take ? code + 1 : code;
  if constexpr (KH == 2) {
    Vec<T> even1, odd1;
    row(x + w, even1, odd1);
    take = replaces<T>(even1, best);
    best = take ? even1 : best, code = take ? Mask<T>{} + 2 : code;
    take = replaces<T>(odd1, best);
    best = take ? odd1 : best, code = take ? Mask<T>{} + 3 : code;
  }
}

// One output row. `pos0`: the plane position of the row's first window.
template <class T, int KH>
void max_row_x2(const T* x, int64_t w, int64_t out_w, int64_t pos0, T* out, int64_t* idx) {
  constexpr int n = lanes<T>;
  for (int64_t ox = 0; ox < out_w; ox += n) {
    const int count = int(std::min<int64_t>(n, out_w - ox));
    Vec<T> best;
    Mask<T> code;
    windows_x2<T, KH>(x + 2 * ox, w, count, best, code);
    store_first(out + ox, best, count);
    if (idx) {
      const Index<T> c = widen<T>(code);
      store_first(idx + ox, pos0 + 2 * ox + iota<Index<T>>(2) + (c >> 1) * w + (c & 1), count);
    }
  }
}

// The gradient rows of one output row: g where an element was its window's maximum, else 0.
template <class T, int KH>
void grad_row_x2(const T* g, const T* x, int64_t w, int64_t out_w, T* gx) {
  constexpr int n = lanes<T>;
  for (int64_t ox = 0; ox < out_w; ox += n) {
    const int count = int(std::min<int64_t>(n, out_w - ox));
    Vec<T> best;
    Mask<T> code;
    windows_x2<T, KH>(x + 2 * ox, w, count, best, code);
    const Vec<T> gv = count == n ? load<Vec<T>>(g + ox) : load_first<Vec<T>>(g + ox, count);
    const Vec<T> zero{};
    auto write_row = [&](T* r, int first_code) {
      Vec<T> lo, hi;
      interleave<T>(code == first_code ? gv : zero, code == first_code + 1 ? gv : zero, lo, hi);
      if (count == n) {
        store(r, lo), store(r + n, hi);
      } else {
        store_first(r, lo, std::min(2 * count, n));
        store_first(r + n, hi, std::max(0, 2 * count - n));
      }
    };
    write_row(gx + 2 * ox, 0);
    if constexpr (KH == 2) write_row(gx + w + 2 * ox, 2);
  }
}

// ---------------------------------------------------------------- NCHW, any tiling window
// Position (i * w + j from the window's first element) of window ox's maximum.
template <class T>
int64_t argmax_any(const PoolShape& s, const T* x, int64_t ox, T& best) {
  best = x[ox * s.kw];
  int64_t at = 0;
  for (int64_t i = 0; i < s.kh; ++i)
    for (int64_t j = (i == 0); j < s.kw; ++j) {
      const int64_t p = i * s.w + j;
      if (replaces(x[ox * s.kw + p], best)) best = x[ox * s.kw + p], at = p;
    }
  return at;
}

template <class T>
void max_row_any(const PoolShape& s, const T* x, int64_t pos0, T* out, int64_t* idx) {
  for (int64_t ox = 0; ox < s.out_w; ++ox) {
    const int64_t at = argmax_any(s, x, ox, out[ox]);
    if (idx) idx[ox] = pos0 + ox * s.kw + at;
  }
}

template <class T>
void grad_row_any(const PoolShape& s, const T* g, const T* x, T* gx) {
  for (int64_t ox = 0; ox < s.out_w; ++ox) {
    T best;
    const int64_t at = argmax_any(s, x, ox, best);
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) gx[ox * s.kw + i * s.w + j] = i * s.w + j == at ? g[ox] : T(0);
  }
}

// Zeroes the rows and columns of an NCHW plane that no window covers (floor mode remainders).
template <class T>
void zero_uncovered_nchw(const PoolShape& s, T* plane) {
  const int64_t covered_h = s.out_h * s.kh, covered_w = s.out_w * s.kw;
  if (covered_w < s.w)
    for (int64_t y = 0; y < covered_h; ++y)
      std::fill(plane + y * s.w + covered_w, plane + (y + 1) * s.w, T(0));
  std::fill(plane + covered_h * s.w, plane + s.h * s.w, T(0));
}

template <class T>
void forward_nchw(const PoolShape& s, const T* input, T* output, int64_t* indices) {
  parallel_for(s.n * s.c, s.h * s.w, [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane)
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        const T* x = input + plane * s.h * s.w + oy * s.kh * s.w;
        const int64_t o = (plane * s.out_h + oy) * s.out_w, pos0 = oy * s.kh * s.w;
        int64_t* idx = indices ? indices + o : nullptr;
        if (s.kh == 2 && s.kw == 2)
          max_row_x2<T, 2>(x, s.w, s.out_w, pos0, output + o, idx);
        else if (s.kh == 1 && s.kw == 2)
          max_row_x2<T, 1>(x, s.w, s.out_w, pos0, output + o, idx);
        else
          max_row_any(s, x, pos0, output + o, idx);
      }
  });
}

template <class T>
void backward_nchw(const PoolShape& s, const T* grad_output, const T* input, T* grad_input) {
  parallel_for(s.n * s.c, s.h * s.w, [&](int64_t b, int64_t e) {
    for (int64_t plane = b; plane < e; ++plane) {
      T* gx = grad_input + plane * s.h * s.w;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        const int64_t row = oy * s.kh * s.w;
        const T* x = input + plane * s.h * s.w + row;
        const T* g = grad_output + (plane * s.out_h + oy) * s.out_w;
        if (s.kh == 2 && s.kw == 2)
          grad_row_x2<T, 2>(g, x, s.w, s.out_w, gx + row);
        else if (s.kh == 1 && s.kw == 2)
          grad_row_x2<T, 1>(g, x, s.w, s.out_w, gx + row);
        else
          grad_row_any(s, g, x, gx + row);
      }
      zero_uncovered_nchw(s, gx);
    }
  });
}

// ---------------------------------------------------------------- NHWC
// A window element's channels are contiguous, so every loop runs over channels. (Sizes are
// copied into locals: read through `s`, the int64 index stores could alias them and the
// channel loops would not vectorize.)
template <class T>
void forward_nhwc(const PoolShape& s, const T* input, T* output, int64_t* indices) {
  parallel_for(s.n * s.out_h, s.out_w * s.kh * s.kw * s.c, [&, s](int64_t b, int64_t e) {
    const int64_t c = s.c, w = s.w, kh = s.kh, kw = s.kw;
    for (int64_t row = b; row < e; ++row) {
      const int64_t n = row / s.out_h, y0 = (row % s.out_h) * kh;
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const int64_t x0 = ox * kw, first_pos = y0 * w + x0;
        T* best = output + (row * s.out_w + ox) * c;
        const T* first = input + (n * s.h * w + first_pos) * c;
        for (int64_t k = 0; k < c; ++k) best[k] = first[k];
        int64_t* at = indices ? indices + (row * s.out_w + ox) * c : nullptr;
        if (at)
          for (int64_t k = 0; k < c; ++k) at[k] = first_pos;
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = (i == 0); j < kw; ++j) {
            const int64_t pos = (y0 + i) * w + x0 + j;
            const T* v = input + (n * s.h * w + pos) * c;
            if (at) {
              for (int64_t k = 0; k < c; ++k) {
                const bool take = replaces(v[k], best[k]);
                best[k] = take ? v[k] : best[k];
                at[k] = take ? pos : at[k];
              }
            } else {
              for (int64_t k = 0; k < c; ++k) best[k] = replaces(v[k], best[k]) ? v[k] : best[k];
            }
          }
      }
    }
  });
}

// One window's gradient for channels [k, k + count): maxima found again in vector lanes.
template <class T>
inline void grad_window_nhwc(const T* x, const T* g, T* gx, int64_t row_step, int64_t c,
                             int64_t kh, int64_t kw, int count) {
  const bool full = count == lanes<T>;
  auto in = [&](const T* p) { return full ? load<Vec<T>>(p) : load_first<Vec<T>>(p, count); };
  Vec<T> best = in(x);
  Mask<T> element{};  // i * kw + j of each lane's maximum
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = (i == 0); j < kw; ++j) {
      const Vec<T> v = in(x + i * row_step + j * c);
      const Mask<T> take = replaces<T>(v, best);
      best = take ? v : best;
      element = take ? Mask<T>{} + typename Types<T>::MaskInt(i * kw + j) : element;
    }
  const Vec<T> gv = in(g), zero{};
  for (int64_t i = 0; i < kh; ++i)
    for (int64_t j = 0; j < kw; ++j) {
      const Vec<T> out = element == typename Types<T>::MaskInt(i * kw + j) ? gv : zero;
      T* dst = gx + i * row_step + j * c;
      if (full)
        store(dst, out);
      else
        store_first(dst, out, count);
    }
}

template <class T>
void backward_nhwc(const PoolShape& s, const T* grad_output, const T* input, T* grad_input) {
  parallel_for(s.n * s.out_h, s.out_w * s.kh * s.kw * s.c, [&](int64_t b, int64_t e) {
    const int64_t c = s.c, w = s.w, kh = s.kh, kw = s.kw, row_step = w * c;
    const int64_t covered_w = s.out_w * kw, covered_h = s.out_h * kh;
    for (int64_t row = b; row < e; ++row) {
      const int64_t n = row / s.out_h, oy = row % s.out_h, y0 = oy * kh;
      for (int64_t ox = 0; ox < s.out_w; ++ox) {
        const int64_t first = ((n * s.h + y0) * w + ox * kw) * c;
        const T* g = grad_output + (row * s.out_w + ox) * c;
        for (int64_t k = 0; k < c; k += lanes<T>)
          grad_window_nhwc(input + first + k, g + k, grad_input + first + k, row_step, c, kh, kw,
                           int(std::min<int64_t>(lanes<T>, c - k)));
      }
      // What no window covers (floor mode remainders): right columns, then bottom rows.
      for (int64_t y = y0; y < y0 + kh; ++y)
        std::fill(grad_input + ((n * s.h + y) * w + covered_w) * c,
                  grad_input + ((n * s.h + y) * w + w) * c, T(0));
      if (oy == s.out_h - 1)
        std::fill(grad_input + (n * s.h + covered_h) * w * c, grad_input + (n + 1) * s.h * w * c,
                  T(0));
    }
  });
}

}  // namespace

template <class T>
void max_pool2d_forward_tiled(const PoolShape& s, const T* input, T* output, int64_t* indices) {
  if (s.channels_last)
    forward_nhwc(s, input, output, indices);
  else
    forward_nchw(s, input, output, indices);
}

template <class T>
void max_pool2d_backward_tiled(const PoolShape& s, const T* grad_output, const T* input,
                               T* grad_input) {
  if (s.channels_last)
    backward_nhwc(s, grad_output, input, grad_input);
  else
    backward_nchw(s, grad_output, input, grad_input);
}

#define EMBER_INSTANTIATE(T)                                                                 \
  template void max_pool2d_forward_tiled<T>(const PoolShape&, const T*, T*, int64_t*);       \
  template void max_pool2d_backward_tiled<T>(const PoolShape&, const T*, const T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
