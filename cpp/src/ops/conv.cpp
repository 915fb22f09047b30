#include "ember/conv.h"

#include <Eigen/Core>
#include <algorithm>
#include <vector>

#include "ember/eigen_maps.h"
#include "ember/parallel.h"

namespace ember {

namespace {

// Element strides of an activation tensor (batch, channel, row, column) in either layout.
struct Strides {
  int64_t n, c, h, w;
};
Strides strides_of(bool channels_last, int64_t c, int64_t h, int64_t w) {
  return channels_last ? Strides{h * w * c, 1, w * c, c} : Strides{c * h * w, h * w, w, 1};
}

// One (sample, group) slice of the problem: what im2col and the GEMMs need.
struct Slice {
  const ConvShape& s;
  int64_t cg, cout_g, oh, ow, k, p;  // channels per group, rows/cols of the column matrix
  Strides in, out;
  explicit Slice(const ConvShape& shape)
      : s(shape), cg(shape.c_in / shape.groups), cout_g(shape.c_out / shape.groups),
        oh(shape.out_h()), ow(shape.out_w()), k(cg * shape.kh * shape.kw), p(oh * ow),
        in(strides_of(shape.channels_last, shape.c_in, shape.h, shape.w)),
        out(strides_of(shape.channels_last, shape.c_out, oh, ow)) {}
};

// col (k, p): row (c, i, j) holds input channel c at kernel offset (i, j) for every output
// position; zero where the window reaches into the padding.
template <class T>
void im2col(const Slice& sl, const T* x, T* col) {
  const ConvShape& s = sl.s;
  for (int64_t c = 0; c < sl.cg; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        T* row = col + ((c * s.kh + i) * s.kw + j) * sl.p;
        for (int64_t oy = 0; oy < sl.oh; ++oy) {
          const int64_t iy = oy * s.stride_h - s.pad_top + i * s.dilation_h;
          T* dst = row + oy * sl.ow;
          if (iy < 0 || iy >= s.h) {
            std::fill(dst, dst + sl.ow, T(0));
            continue;
          }
          const T* src = x + c * sl.in.c + iy * sl.in.h;
          for (int64_t ox = 0; ox < sl.ow; ++ox) {
            const int64_t ix = ox * s.stride_w - s.pad_left + j * s.dilation_w;
            dst[ox] = (ix >= 0 && ix < s.w) ? src[ix * sl.in.w] : T(0);
          }
        }
      }
}

// The inverse scatter: adds each column entry back to the input element it was read from.
template <class T>
void col2im_add(const Slice& sl, const T* col, T* x) {
  const ConvShape& s = sl.s;
  for (int64_t c = 0; c < sl.cg; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        const T* row = col + ((c * s.kh + i) * s.kw + j) * sl.p;
        for (int64_t oy = 0; oy < sl.oh; ++oy) {
          const int64_t iy = oy * s.stride_h - s.pad_top + i * s.dilation_h;
          if (iy < 0 || iy >= s.h) continue;
          T* dst = x + c * sl.in.c + iy * sl.in.h;
          const T* src = row + oy * sl.ow;
          for (int64_t ox = 0; ox < sl.ow; ++ox) {
            const int64_t ix = ox * s.stride_w - s.pad_left + j * s.dilation_w;
            if (ix >= 0 && ix < s.w) dst[ix * sl.in.w] += src[ox];
          }
        }
      }
}

// The (cout_g, p) block of an output-shaped tensor for sample n, group g: row-major with row
// stride p for NCHW; column-major with column stride c_out for NHWC. f gets an Eigen map.
template <class T, class Ptr, class F>
void with_out_block(const Slice& sl, Ptr base, int64_t n, int64_t g, F f) {
  using RowMap = Eigen::Map<std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>,
                                               const MatrixRM<T>, MatrixRM<T>>>;
  using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
  using ColMap = Eigen::Map<std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>,
                                               const ColMatrix, ColMatrix>,
                            0, Eigen::OuterStride<>>;
  Ptr p = base + n * sl.out.n + g * sl.cout_g * sl.out.c;
  if (sl.s.channels_last) f(ColMap(p, sl.cout_g, sl.p, Eigen::OuterStride<>(sl.s.c_out)));
  else f(RowMap(p, sl.cout_g, sl.p));
}

// Per-thread scratch for column matrices: allocated once per thread and reused.
template <class T>
T* workspace(size_t count) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

constexpr int64_t kWeightGradChunk = 4;  // samples per partial weight gradient

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                    T* output) {
  const Slice sl(s);
  parallel_for(s.n, 2 * sl.k * sl.p * s.c_out, [&](int64_t b, int64_t e) {
    T* col = workspace<T>(sl.k * sl.p);
    for (int64_t n = b; n < e; ++n)
      for (int64_t g = 0; g < s.groups; ++g) {
        im2col(sl, input + n * sl.in.n + g * sl.cg * sl.in.c, col);
        ConstMatrixMap<T> w(weight + g * sl.cout_g * sl.k, sl.cout_g, sl.k);
        ConstMatrixMap<T> c(col, sl.k, sl.p);
        with_out_block<T>(sl, output, n, g, [&](auto out) {
          out.noalias() = w * c;
          if (bias) out.colwise() += ConstVectorMap<T>(bias + g * sl.cout_g, sl.cout_g);
        });
      }
  });
}

template <class T>
void conv2d_backward_input(const ConvShape& s, const T* grad_output, const T* weight,
                           T* grad_input) {
  const Slice sl(s);
  parallel_for(s.n, 2 * sl.k * sl.p * s.c_out, [&](int64_t b, int64_t e) {
    T* col = workspace<T>(sl.k * sl.p);
    for (int64_t n = b; n < e; ++n) {
      std::fill(grad_input + n * sl.in.n, grad_input + (n + 1) * sl.in.n, T(0));
      for (int64_t g = 0; g < s.groups; ++g) {
        ConstMatrixMap<T> w(weight + g * sl.cout_g * sl.k, sl.cout_g, sl.k);
        MatrixMap<T> c(col, sl.k, sl.p);
        with_out_block<T>(sl, grad_output, n, g, [&](auto go) { c.noalias() = w.transpose() * go; });
        col2im_add(sl, col, grad_input + n * sl.in.n + g * sl.cg * sl.in.c);
      }
    }
  });
}

template <class T>
void conv2d_backward_weight(const ConvShape& s, const T* grad_output, const T* input,
                            T* grad_weight) {
  const Slice sl(s);
  // Partial sums over fixed chunks of samples, added in chunk order: the result does not
  // depend on how many threads computed the chunks.
  const int64_t chunks = std::max<int64_t>(1, (s.n + kWeightGradChunk - 1) / kWeightGradChunk);
  const int64_t size = s.c_out * sl.k;
  std::vector<T> partial(chunks > 1 ? chunks * size : 0);
  parallel_for(chunks, 2 * kWeightGradChunk * sl.k * sl.p * s.c_out, [&](int64_t b, int64_t e) {
    T* col = workspace<T>(sl.k * sl.p);
    for (int64_t ch = b; ch < e; ++ch) {
      T* acc = chunks > 1 ? partial.data() + ch * size : grad_weight;
      std::fill(acc, acc + size, T(0));
      const int64_t n_end = std::min(s.n, (ch + 1) * kWeightGradChunk);
      for (int64_t n = ch * kWeightGradChunk; n < n_end; ++n)
        for (int64_t g = 0; g < s.groups; ++g) {
          im2col(sl, input + n * sl.in.n + g * sl.cg * sl.in.c, col);
          MatrixMap<T> gw(acc + g * sl.cout_g * sl.k, sl.cout_g, sl.k);
          ConstMatrixMap<T> c(col, sl.k, sl.p);
          with_out_block<T>(sl, grad_output, n, g,
                            [&](auto go) { gw.noalias() += go * c.transpose(); });
        }
    }
  });
  if (chunks > 1) {
    std::fill(grad_weight, grad_weight + size, T(0));
    for (int64_t ch = 0; ch < chunks; ++ch)
      VectorMap<T>(grad_weight, size) += ConstVectorMap<T>(partial.data() + ch * size, size);
  }
}

template <class T>
void conv2d_backward_bias(const ConvShape& s, const T* grad_output, T* grad_bias) {
  const Slice sl(s);
  // Each thread sums whole channels in a fixed order (thread-count invariant).
  parallel_for(s.c_out, s.n * sl.p, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      T acc = 0;
      for (int64_t n = 0; n < s.n; ++n) {
        const T* go = grad_output + n * sl.out.n + c * sl.out.c;
        const int64_t step = s.channels_last ? s.c_out : 1;
        for (int64_t q = 0; q < sl.p; ++q) acc += go[q * step];
      }
      grad_bias[c] = acc;
    }
  });
}

#define EMBER_INSTANTIATE(T)                                                              \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*);    \
  template void conv2d_backward_input<T>(const ConvShape&, const T*, const T*, T*);       \
  template void conv2d_backward_weight<T>(const ConvShape&, const T*, const T*, T*);      \
  template void conv2d_backward_bias<T>(const ConvShape&, const T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
