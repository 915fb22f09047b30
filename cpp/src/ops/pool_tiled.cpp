#include "ember/pool_tiled.h"

#include <algorithm>
#include <atomic>

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

// PyTorch's rule, as in pool.cpp: a larger value or a NaN replaces the maximum. Scanned in
// window order (row by row), so the first of equal maxima and the last NaN win.
template <class T>
inline bool replaces(T v, T best) {
  return v > best || v != v;
}
template <class V, class M>
inline M replaces(const V& v, const V& best) {
  return (v > best) | (v != v);
}

// ---------------------------------------------------------------- NCHW, 2-wide windows
// `count` (<= lanes) windows 2 wide and KH (1 or 2) high, starting at plane position `pos`:
// rows x and x + w. Rows shorter than a vector end with masked loads and stores.
template <class T, int KH>
inline void max_windows_x2(const T* x, int64_t w, int64_t pos, T* out, int64_t* idx,
                           int count) {
  constexpr int n = lanes<T>;
  auto row = [&](const T* r, Vec<T>& even, Vec<T>& odd) {
    if (count == n)
      deinterleave<T>(load<Vec<T>>(r), load<Vec<T>>(r + n), even, odd);
    else
      deinterleave<T>(load_first<Vec<T>>(r, std::min(2 * count, n)),
                      load_first<Vec<T>>(r + n, std::max(0, 2 * count - n)), even, odd);
  };
  Vec<T> best, odd;
  row(x, best, odd);
  Mask<T> code{};  // 2 * row + column of the maximum in each window
  Mask<T> take = replaces<Vec<T>, Mask<T>>(odd, best);
  best = take ? odd : best, code = take ? code + 1 : code;
  if constexpr (KH == 2) {
    Vec<T> even1, odd1;
    row(x + w, even1, odd1);
    take = replaces<Vec<T>, Mask<T>>(even1, best);
    best = take ? even1 : best, code = take ? Mask<T>{} + 2 : code;
    take = replaces<Vec<T>, Mask<T>>(odd1, best);
    best = take ? odd1 : best, code = take ? Mask<T>{} + 3 : code;
  }
  const Index<T> c = widen<T>(code);
  const Index<T> at = pos + iota<Index<T>>(2) + (c >> 1) * w + (c & 1);
  store_first(out, best, count);
  store_first(idx, at, count);
}

template <class T, int KH>
void max_row_x2(const T* x, int64_t w, int64_t out_w, int64_t pos0, T* out, int64_t* idx) {
  constexpr int n = lanes<T>;
  for (int64_t ox = 0; ox < out_w; ox += n)
    max_windows_x2<T, KH>(x + 2 * ox, w, pos0 + 2 * ox, out + ox, idx + ox,
                          int(std::min<int64_t>(n, out_w - ox)));
}

// Gradient of `count` 2-wide windows: each element gets g where it was the maximum, else 0.
// `found` counts, per lane, the windows whose index was one of their elements.
template <class T, int KH>
inline void grad_windows_x2(const T* g, const int64_t* idx, int64_t w, int64_t pos, T* gx,
                            int count, Mask<T>& found) {
  constexpr int n = lanes<T>;
  const bool full = count == n;
  const Vec<T> gv = full ? load<Vec<T>>(g) : load_first<Vec<T>>(g, count), zero{};
  Index<T> at = full ? load<Index<T>>(idx) : load_first<Index<T>>(idx, count);
  at = iota<Index<T>>(1) < count ? at : Index<T>{} - 2;  // -2: matches no position
  const Index<T> first = pos + iota<Index<T>>(2);
  auto write_row = [&](T* r, const Mask<T>& even, const Mask<T>& odd) {
    Vec<T> lo, hi;
    interleave<T>(even ? gv : zero, odd ? gv : zero, lo, hi);
    if (full) {
      store(r, lo), store(r + n, hi);
    } else {
      store_first(r, lo, std::min(2 * count, n));
      store_first(r + n, hi, std::max(0, 2 * count - n));
    }
  };
  const Mask<T> m00 = narrow<T>(at == first), m01 = narrow<T>(at == first + 1);
  write_row(gx, m00, m01);
  Mask<T> here = m00 | m01;
  if constexpr (KH == 2) {
    const Mask<T> m10 = narrow<T>(at == first + w), m11 = narrow<T>(at == first + w + 1);
    write_row(gx + w, m10, m11);
    here |= m10 | m11;
  }
  found -= here;  // compares give -1 for true
}

template <class T, int KH>
void grad_row_x2(const T* g, const int64_t* idx, int64_t w, int64_t out_w, int64_t pos0, T* gx,
                 Mask<T>& found) {
  constexpr int n = lanes<T>;
  for (int64_t ox = 0; ox < out_w; ox += n)
    grad_windows_x2<T, KH>(g + ox, idx + ox, w, pos0 + 2 * ox, gx + 2 * ox,
                           int(std::min<int64_t>(n, out_w - ox)), found);
}

// ---------------------------------------------------------------- NCHW, any tiling window
template <class T>
void max_row_any(const PoolShape& s, const T* x, int64_t pos0, T* out, int64_t* idx) {
  for (int64_t ox = 0; ox < s.out_w; ++ox) {
    T best = x[ox * s.kw];
    int64_t at = ox * s.kw;
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = (i == 0); j < s.kw; ++j) {
        const int64_t p = i * s.w + ox * s.kw + j;
        if (replaces(x[p], best)) best = x[p], at = p;
      }
    out[ox] = best;
    idx[ox] = pos0 + at;
  }
}

template <class T>
int64_t grad_row_any(const PoolShape& s, const T* g, const int64_t* idx, int64_t pos0, T* gx) {
  int64_t matched = 0;
  for (int64_t i = 0; i < s.kh; ++i)
    for (int64_t ox = 0; ox < s.out_w; ++ox)
      for (int64_t j = 0; j < s.kw; ++j) {
        const int64_t p = i * s.w + ox * s.kw + j;
        const bool here = idx[ox] == pos0 + p;
        gx[p] = here ? g[ox] : T(0);
        matched += here;
      }
  return matched;
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
        if (s.kh == 2 && s.kw == 2)
          max_row_x2<T, 2>(x, s.w, s.out_w, pos0, output + o, indices + o);
        else if (s.kh == 1 && s.kw == 2)
          max_row_x2<T, 1>(x, s.w, s.out_w, pos0, output + o, indices + o);
        else
          max_row_any(s, x, pos0, output + o, indices + o);
      }
  });
}

template <class T>
int64_t backward_nchw(const PoolShape& s, const T* grad_output, const int64_t* indices,
                      T* grad_input) {
  std::atomic<int64_t> matched{0};
  parallel_for(s.n * s.c, s.h * s.w, [&](int64_t b, int64_t e) {
    Mask<T> found{};
    int64_t found_any = 0;
    for (int64_t plane = b; plane < e; ++plane) {
      T* gx = grad_input + plane * s.h * s.w;
      for (int64_t oy = 0; oy < s.out_h; ++oy) {
        const int64_t o = (plane * s.out_h + oy) * s.out_w, pos0 = oy * s.kh * s.w;
        if (s.kh == 2 && s.kw == 2)
          grad_row_x2<T, 2>(grad_output + o, indices + o, s.w, s.out_w, pos0, gx + pos0, found);
        else if (s.kh == 1 && s.kw == 2)
          grad_row_x2<T, 1>(grad_output + o, indices + o, s.w, s.out_w, pos0, gx + pos0, found);
        else
          found_any += grad_row_any(s, grad_output + o, indices + o, pos0, gx + pos0);
      }
      zero_uncovered_nchw(s, gx);
    }
    for (int i = 0; i < lanes<T>; ++i) found_any += found[i];
    matched += found_any;
  });
  return matched;
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
        const int64_t x0 = ox * kw;
        T* best = output + (row * s.out_w + ox) * c;
        int64_t* at = indices + (row * s.out_w + ox) * c;
        const T* first = input + ((n * s.h + y0) * w + x0) * c;
        const int64_t first_pos = y0 * w + x0;
        for (int64_t k = 0; k < c; ++k) best[k] = first[k];
        for (int64_t k = 0; k < c; ++k) at[k] = first_pos;
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = (i == 0); j < kw; ++j) {
            const int64_t pos = (y0 + i) * w + x0 + j;
            const T* v = input + (n * s.h * w + pos) * c;
            for (int64_t k = 0; k < c; ++k) {
              const bool take = (v[k] > best[k]) | (v[k] != v[k]);
              best[k] = take ? v[k] : best[k];
              at[k] = take ? pos : at[k];
            }
          }
      }
    }
  });
}

template <class T>
int64_t backward_nhwc(const PoolShape& s, const T* grad_output, const int64_t* indices,
                      T* grad_input) {
  std::atomic<int64_t> matched{0};
  parallel_for(s.n * s.h, s.w * s.c, [&, s](int64_t b, int64_t e) {
    const int64_t c = s.c;
    int64_t found = 0;
    for (int64_t in_row = b; in_row < e; ++in_row) {
      const int64_t n = in_row / s.h, y = in_row % s.h, oy = y / s.kh;
      T* gx = grad_input + in_row * s.w * c;
      if (oy >= s.out_h) {  // below the last window
        std::fill(gx, gx + s.w * c, T(0));
        continue;
      }
      for (int64_t x = 0; x < s.w; ++x) {
        const int64_t ox = x / s.kw;
        T* dst = gx + x * c;
        if (ox >= s.out_w) {
          std::fill(dst, dst + c, T(0));
          continue;
        }
        const int64_t o = ((n * s.out_h + oy) * s.out_w + ox) * c, pos = y * s.w + x;
        const T* g = grad_output + o;
        const int64_t* at = indices + o;
        for (int64_t k = 0; k < c; ++k) {
          const bool here = at[k] == pos;
          dst[k] = here ? g[k] : T(0);
          found += here;
        }
      }
    }
    matched += found;
  });
  return matched;
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
int64_t max_pool2d_backward_tiled(const PoolShape& s, const T* grad_output,
                                  const int64_t* indices, T* grad_input) {
  return s.channels_last ? backward_nhwc(s, grad_output, indices, grad_input)
                         : backward_nchw(s, grad_output, indices, grad_input);
}

#define EMBER_INSTANTIATE(T)                                                                  \
  template void max_pool2d_forward_tiled<T>(const PoolShape&, const T*, T*, int64_t*);        \
  template int64_t max_pool2d_backward_tiled<T>(const PoolShape&, const T*, const int64_t*,   \
                                                T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
