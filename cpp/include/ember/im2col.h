// Column matrices of a convolution (im2col) and their transposed scatter (col2im), in the two
// layouts conv.cpp multiplies with Eigen:
//   rows:    (k, P), row (c, i, j) holds input channel c at kernel tap (i, j) for the P output
//            positions: for NCHW input, where each row is filled by contiguous row copies;
//   patches: (P, k), row q holds output position q's patch ordered (i, j, c): for NHWC input,
//            where each tap copies a contiguous run of channels.
// Entries whose tap reaches into the padding are zero.
#pragma once
#include <algorithm>
#include <cstdint>

#include "ember/conv.h"
#include "ember/simd.h"

namespace ember {

// Element strides of an activation tensor (batch, channel, row, column) in either layout.
struct Strides {
  int64_t n, c, h, w;
};
inline Strides strides_of(bool channels_last, int64_t c, int64_t h, int64_t w) {
  return channels_last ? Strides{h * w * c, 1, w * c, c} : Strides{c * h * w, h * w, w, 1};
}

// One (sample, group) slice of the problem: what the column matrices and the GEMMs need.
struct ConvSlice {
  const ConvShape& s;
  int64_t cg, cout_g, oh, ow, k, p;  // channels per group; patch length; output positions
  Strides in, out;
  explicit ConvSlice(const ConvShape& shape)
      : s(shape), cg(shape.c_in / shape.groups), cout_g(shape.c_out / shape.groups),
        oh(shape.out_h()), ow(shape.out_w()), k(cg * shape.kh * shape.kw), p(oh * ow),
        in(strides_of(shape.channels_last, shape.c_in, shape.h, shape.w)),
        out(strides_of(shape.channels_last, shape.c_out, oh, ow)) {}
};

// Outputs [lo, hi) of `out` whose input coordinate o * stride + offset lies in [0, size).
struct Range {
  int64_t lo, hi;
};
inline Range inside(int64_t offset, int64_t stride, int64_t size, int64_t out) {
  const int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const int64_t hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
  return {std::min(lo, out), std::max(std::min(lo, out), std::min(hi, out))};
}

// ---------------------------------------------------------------- rows layout
// x: the slice's first input channel; col: (k, >= p) with row stride ld.
template <class T>
void im2col_rows(const ConvSlice& sl, const T* x, T* col, int64_t ld) {
  const ConvShape& s = sl.s;
  const bool unit = s.stride_w == 1 && sl.in.w == 1;  // each row run is a contiguous copy
  for (int64_t c = 0; c < sl.cg; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        T* row = col + ((c * s.kh + i) * s.kw + j) * ld;
        const int64_t x_offset = j * s.dilation_w - s.pad_left;
        const Range xs = inside(x_offset, s.stride_w, s.w, sl.ow);
        for (int64_t oy = 0; oy < sl.oh; ++oy) {
          const int64_t iy = oy * s.stride_h - s.pad_top + i * s.dilation_h;
          T* dst = row + oy * sl.ow;
          if (iy < 0 || iy >= s.h) {
            simd::zero_n(dst, sl.ow);
            continue;
          }
          const T* src = x + c * sl.in.c + iy * sl.in.h + (xs.lo * s.stride_w + x_offset) * sl.in.w;
          simd::zero_n(dst, xs.lo);
          if (unit) {
            simd::copy_n(src, xs.hi - xs.lo, dst + xs.lo);
          } else {
            const int64_t step = s.stride_w * sl.in.w;
            for (int64_t q = 0; q < xs.hi - xs.lo; ++q) dst[xs.lo + q] = src[q * step];
          }
          simd::zero_n(dst + xs.hi, sl.ow - xs.hi);
        }
      }
}

// The inverse scatter: adds each column entry back to the input element it was read from.
template <class T>
void col2im_rows_add(const ConvSlice& sl, const T* col, T* x, int64_t ld) {
  const ConvShape& s = sl.s;
  const bool unit = s.stride_w == 1 && sl.in.w == 1;
  for (int64_t c = 0; c < sl.cg; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        const T* row = col + ((c * s.kh + i) * s.kw + j) * ld;
        const int64_t x_offset = j * s.dilation_w - s.pad_left;
        const Range xs = inside(x_offset, s.stride_w, s.w, sl.ow);
        for (int64_t oy = 0; oy < sl.oh; ++oy) {
          const int64_t iy = oy * s.stride_h - s.pad_top + i * s.dilation_h;
          if (iy < 0 || iy >= s.h) continue;
          T* dst = x + c * sl.in.c + iy * sl.in.h + (xs.lo * s.stride_w + x_offset) * sl.in.w;
          const T* src = row + oy * sl.ow + xs.lo;
          if (unit) {
            simd::add_n(src, xs.hi - xs.lo, dst);
          } else {
            const int64_t step = s.stride_w * sl.in.w;
            for (int64_t q = 0; q < xs.hi - xs.lo; ++q) dst[q * step] += src[q];
          }
        }
      }
}

// ---------------------------------------------------------------- patches layout
// x: the sample's first channel of the group (NHWC); colT: p rows of k.
template <class T>
void im2col_patches(const ConvSlice& sl, const T* x, T* colT) {
  const ConvShape& s = sl.s;
  const int64_t cg = sl.cg, run = s.kw * cg;
  for (int64_t oy = 0; oy < sl.oh; ++oy)
    for (int64_t ox = 0; ox < sl.ow; ++ox) {
      T* patch = colT + (oy * sl.ow + ox) * sl.k;
      const int64_t x0 = ox * s.stride_w - s.pad_left;
      for (int64_t i = 0; i < s.kh; ++i) {
        const int64_t iy = oy * s.stride_h - s.pad_top + i * s.dilation_h;
        T* dst = patch + i * run;
        if (iy < 0 || iy >= s.h) {
          simd::zero_n(dst, run);
          continue;
        }
        const T* src_row = x + iy * sl.in.h;
        // The whole tap row inside, and one group: kw pixels' channels are one contiguous run.
        if (s.dilation_w == 1 && sl.in.w == cg && x0 >= 0 && x0 + s.kw <= s.w) {
          simd::copy_n(src_row + x0 * sl.in.w, run, dst);
          continue;
        }
        for (int64_t j = 0; j < s.kw; ++j) {
          const int64_t ix = x0 + j * s.dilation_w;
          T* d = dst + j * cg;
          if (ix < 0 || ix >= s.w)
            simd::zero_n(d, cg);
          else
            simd::copy_n(src_row + ix * sl.in.w, cg, d);
        }
      }
    }
}

// col2im_patches_add for stride 1 and no dilation: the taps that read pixel (iy, ix) are a
// rectangle [i0, i1] x [j0, j1] found without divisions, and tap (i, j + 1) is read by the
// output position one to the left, so its entry lies cg - k elements after tap (i, j)'s.
// (The general version's two divisions per tap were most of a small layer's input gradient.)
template <class T>
void col2im_patches_add_unit_stride(const ConvSlice& sl, const T* colT, T* x) {
  using V = simd::Vec<T>;
  constexpr int L = simd::lanes<T>;
  const ConvShape& s = sl.s;
  const int64_t cg = sl.cg, k = sl.k, step = cg - k;
  for (int64_t iy = 0; iy < s.h; ++iy) {
    const int64_t y = iy + s.pad_top;  // oy = y - i
    const int64_t i0 = std::max<int64_t>(0, y - (sl.oh - 1)), i1 = std::min<int64_t>(s.kh - 1, y);
    for (int64_t ix = 0; ix < s.w; ++ix) {
      const int64_t xx = ix + s.pad_left;  // ox = xx - j
      const int64_t j0 = std::max<int64_t>(0, xx - (sl.ow - 1));
      const int64_t j1 = std::min<int64_t>(s.kw - 1, xx);
      T* dst = x + iy * sl.in.h + ix * sl.in.w;
      for (int64_t c0 = 0; c0 < cg; c0 += L) {
        const int cn = int(std::min<int64_t>(L, cg - c0));
        V acc{};
        for (int64_t i = i0; i <= i1; ++i) {
          const T* entry = colT + ((y - i) * sl.ow + (xx - j0)) * k + (i * s.kw + j0) * cg + c0;
          for (int64_t j = j0; j <= j1; ++j, entry += step) acc += simd::load_first<V>(entry, cn);
        }
        simd::store_first(dst + c0, simd::load_first<V>(dst + c0, cn) + acc, cn);
      }
    }
  }
}

// The inverse, as a gather: each input pixel sums, in vector registers, the patch entries of
// every (output position, tap) that read it, then adds them to x once. (Scattering patch by
// patch instead re-reads what the previous patch just stored through short masked moves: the
// loads wait on the stores, 5x slower for 10 channels.)
template <class T>
void col2im_patches_add(const ConvSlice& sl, const T* colT, T* x) {
  using V = simd::Vec<T>;
  constexpr int L = simd::lanes<T>;
  const ConvShape& s = sl.s;
  const int64_t cg = sl.cg;
  if (s.stride_h == 1 && s.stride_w == 1 && s.dilation_h == 1 && s.dilation_w == 1)
    return col2im_patches_add_unit_stride(sl, colT, x);
  // Output coordinate o with o * stride - pad + tap * dilation == at, or -1.
  auto source = [](int64_t at, int64_t tap, int64_t stride, int64_t pad, int64_t dilation,
                   int64_t out) -> int64_t {
    const int64_t t = at + pad - tap * dilation;
    if (t < 0 || t % stride != 0 || t / stride >= out) return -1;
    return t / stride;
  };
  for (int64_t iy = 0; iy < s.h; ++iy)
    for (int64_t ix = 0; ix < s.w; ++ix) {
      T* dst = x + iy * sl.in.h + ix * sl.in.w;
      for (int64_t c0 = 0; c0 < cg; c0 += L) {
        const int cn = int(std::min<int64_t>(L, cg - c0));
        V acc{};
        for (int64_t i = 0; i < s.kh; ++i) {
          const int64_t oy = source(iy, i, s.stride_h, s.pad_top, s.dilation_h, sl.oh);
          if (oy < 0) continue;
          for (int64_t j = 0; j < s.kw; ++j) {
            const int64_t ox = source(ix, j, s.stride_w, s.pad_left, s.dilation_w, sl.ow);
            if (ox < 0) continue;
            const T* entry = colT + (oy * sl.ow + ox) * sl.k + (i * s.kw + j) * cg + c0;
            acc += simd::load_first<V>(entry, cn);
          }
        }
        simd::store_first(dst + c0, simd::load_first<V>(dst + c0, cn) + acc, cn);
      }
    }
}

}  // namespace ember
