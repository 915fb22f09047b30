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

// col (k, p) with row stride ld: row (c, i, j) holds input channel c at kernel offset (i, j)
// for every output position; zero where the window reaches into the padding.
template <class T>
void im2col(const Slice& sl, const T* x, T* col, int64_t ld) {
  const ConvShape& s = sl.s;
  for (int64_t c = 0; c < sl.cg; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        T* row = col + ((c * s.kh + i) * s.kw + j) * ld;
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
void col2im_add(const Slice& sl, const T* col, T* x, int64_t ld) {
  const ConvShape& s = sl.s;
  for (int64_t c = 0; c < sl.cg; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        const T* row = col + ((c * s.kh + i) * s.kw + j) * ld;
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

// Per-thread scratch, allocated once per thread and reused (slot 0: columns, 1: outputs).
template <class T>
T* workspace(int slot, size_t count) {
  thread_local std::vector<T> buffers[2];
  if (buffers[slot].size() < count) buffers[slot].resize(count);
  return buffers[slot].data();
}

// Samples per GEMM: several samples' columns side by side make one wide product instead of
// many thin ones. Depends only on the shapes (never on the thread count, so results do not
// either) and keeps the column matrix within a memory budget.
int64_t samples_per_gemm(const Slice& sl, int64_t n) {
  constexpr int64_t kMaxSamples = 8, kBudget = 1 << 21;  // elements of the column matrix
  const int64_t fit = kBudget / std::max<int64_t>(1, sl.k * sl.p);
  return std::max<int64_t>(1, std::min({kMaxSamples, fit, n}));
}

// A chunk of samples [n0, n0 + count) and group g, with the column matrix (k, count * p).
template <class T>
struct Chunk {
  const Slice& sl;
  int64_t n0, count, g;
  int64_t cols() const { return count * sl.p; }
  void fill_columns(const T* input, T* col) const {
    for (int64_t s = 0; s < count; ++s)
      im2col(sl, input + (n0 + s) * sl.in.n + g * sl.cg * sl.in.c, col + s * sl.p, cols());
  }
  ConstMatrixMap<T> weight(const T* w) const {
    return ConstMatrixMap<T>(w + g * sl.cout_g * sl.k, sl.cout_g, sl.k);
  }
  // NHWC: the chunk's (count * p, cout_g) block of an output-shaped tensor, in place.
  template <class Ptr>
  auto nhwc_block(Ptr base) const {
    using M = std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>, const MatrixRM<T>,
                                 MatrixRM<T>>;
    return Eigen::Map<M, 0, Eigen::OuterStride<>>(base + n0 * sl.out.n + g * sl.cout_g,
                                                  cols(), sl.cout_g,
                                                  Eigen::OuterStride<>(sl.s.c_out));
  }
  // NCHW: copies between the chunk's (cout_g, count * p) matrix and the per-sample planes.
  void gather_nchw(const T* base, T* m) const {
    for (int64_t s = 0; s < count; ++s)
      for (int64_t c = 0; c < sl.cout_g; ++c) {
        const T* src = base + (n0 + s) * sl.out.n + (g * sl.cout_g + c) * sl.p;
        std::copy(src, src + sl.p, m + c * cols() + s * sl.p);
      }
  }
  void scatter_nchw(const T* m, T* base) const {
    for (int64_t s = 0; s < count; ++s)
      for (int64_t c = 0; c < sl.cout_g; ++c)
        std::copy(m + c * cols() + s * sl.p, m + c * cols() + (s + 1) * sl.p,
                  base + (n0 + s) * sl.out.n + (g * sl.cout_g + c) * sl.p);
  }
};

// Runs body(chunk) for every (chunk of samples, group), in parallel over chunks.
template <class T, class Body>
void over_chunks(const Slice& sl, int64_t per_gemm, const Body& body) {
  const int64_t n = sl.s.n, chunks = (n + per_gemm - 1) / per_gemm;
  parallel_for(chunks, 2 * per_gemm * sl.k * sl.p * sl.s.c_out, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch)
      for (int64_t g = 0; g < sl.s.groups; ++g)
        body(Chunk<T>{sl, ch * per_gemm, std::min(per_gemm, n - ch * per_gemm), g}, ch);
  });
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                    T* output) {
  const Slice sl(s);
  if (s.n == 0) return;
  const int64_t per_gemm = samples_per_gemm(sl, s.n);
  over_chunks<T>(sl, per_gemm, [&](const Chunk<T>& ck, int64_t) {
    T* col = workspace<T>(0, sl.k * ck.cols());
    ck.fill_columns(input, col);
    ConstMatrixMap<T> c(col, sl.k, ck.cols());
    if (s.channels_last) {  // the chunk's NHWC rows are the product itself
      auto out = ck.nhwc_block(output);
      out.noalias() = c.transpose() * ck.weight(weight).transpose();
      if (bias) out.rowwise() += ConstVectorMap<T>(bias + ck.g * sl.cout_g, sl.cout_g).transpose();
      return;
    }
    MatrixMap<T> y(workspace<T>(1, sl.cout_g * ck.cols()), sl.cout_g, ck.cols());
    y.noalias() = ck.weight(weight) * c;
    if (bias) y.colwise() += ConstVectorMap<T>(bias + ck.g * sl.cout_g, sl.cout_g);
    ck.scatter_nchw(y.data(), output);
  });
}

template <class T>
void conv2d_backward_input(const ConvShape& s, const T* grad_output, const T* weight,
                           T* grad_input) {
  const Slice sl(s);
  if (s.n == 0) return;
  const int64_t per_gemm = samples_per_gemm(sl, s.n);
  over_chunks<T>(sl, per_gemm, [&](const Chunk<T>& ck, int64_t) {
    if (ck.g == 0)
      std::fill(grad_input + ck.n0 * sl.in.n, grad_input + (ck.n0 + ck.count) * sl.in.n, T(0));
    MatrixMap<T> c(workspace<T>(0, sl.k * ck.cols()), sl.k, ck.cols());
    if (s.channels_last) {
      c.noalias() = ck.weight(weight).transpose() * ck.nhwc_block(grad_output).transpose();
    } else {
      T* go = workspace<T>(1, sl.cout_g * ck.cols());
      ck.gather_nchw(grad_output, go);
      c.noalias() = ck.weight(weight).transpose() * ConstMatrixMap<T>(go, sl.cout_g, ck.cols());
    }
    for (int64_t sm = 0; sm < ck.count; ++sm)
      col2im_add(sl, c.data() + sm * sl.p,
                 grad_input + (ck.n0 + sm) * sl.in.n + ck.g * sl.cg * sl.in.c, ck.cols());
  });
}

template <class T>
void conv2d_backward_weight(const ConvShape& s, const T* grad_output, const T* input,
                            T* grad_weight) {
  const Slice sl(s);
  const int64_t size = s.c_out * sl.k;
  std::fill(grad_weight, grad_weight + size, T(0));
  if (s.n == 0) return;
  // One partial sum per chunk of samples, added in chunk order: the result does not depend on
  // how many threads computed the chunks.
  const int64_t per_gemm = samples_per_gemm(sl, s.n);
  const int64_t chunks = (s.n + per_gemm - 1) / per_gemm;
  std::vector<T> partial(chunks > 1 ? chunks * size : 0);
  over_chunks<T>(sl, per_gemm, [&](const Chunk<T>& ck, int64_t ch) {
    T* acc = chunks > 1 ? partial.data() + ch * size : grad_weight;
    T* col = workspace<T>(0, sl.k * ck.cols());
    ck.fill_columns(input, col);
    ConstMatrixMap<T> c(col, sl.k, ck.cols());
    MatrixMap<T> gw(acc + ck.g * sl.cout_g * sl.k, sl.cout_g, sl.k);
    if (s.channels_last) {
      gw.noalias() = ck.nhwc_block(grad_output).transpose() * c.transpose();
    } else {
      T* go = workspace<T>(1, sl.cout_g * ck.cols());
      ck.gather_nchw(grad_output, go);
      gw.noalias() = ConstMatrixMap<T>(go, sl.cout_g, ck.cols()) * c.transpose();
    }
  });
  for (int64_t ch = 0; chunks > 1 && ch < chunks; ++ch)
    VectorMap<T>(grad_weight, size) += ConstVectorMap<T>(partial.data() + ch * size, size);
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
