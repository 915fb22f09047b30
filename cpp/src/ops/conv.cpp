#include "ember/conv.h"

#include <Eigen/Core>
#include <algorithm>
#include <memory>
#include <vector>

#include "ember/conv_direct.h"
#include "ember/conv_winograd.h"
#include "ember/eigen_maps.h"
#include "ember/im2col.h"
#include "ember/parallel.h"
#include "ember/parallel_product.h"
#include "ember/simd.h"
#include "ember/transpose.h"

namespace ember {

namespace {

// Which column layout (im2col.h) a geometry uses: the one whose copies are contiguous.
bool uses_patches(const ConvShape& s) { return s.channels_last && s.c_in / s.groups > 1; }

// NCHW convolutions of several input channels run as NHWC between two transposes: the patches
// layout's products have the output positions as their long side and its im2col copies whole
// channel runs, which measured 25-30% faster than the rows layout (c_out-row products, short
// row copies) even with the transposes (2-5% of the work).
bool runs_as_nhwc(const ConvShape& s) {
  return !s.channels_last && s.groups == 1 && s.c_in > 1 && !conv2d_direct_applies(s);
}

// (n, rows, cols) -> (n, cols, rows), in parallel over samples.
template <class T>
void swap_channels_into(const T* src, int64_t n, int64_t rows, int64_t cols, T* dst) {
  parallel_for(n, rows * cols, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      transpose(src + i * rows * cols, rows, cols, dst + i * rows * cols);
  });
}
// A buffer every element of which its user writes: no zero fill (measured 5% of small models).
template <class T>
using Scratch = std::unique_ptr<T[]>;
template <class T>
Scratch<T> scratch(int64_t count) {
  return Scratch<T>(new T[std::max<int64_t>(count, 0)]);
}

template <class T>
Scratch<T> swap_channels(const T* src, int64_t n, int64_t rows, int64_t cols) {
  Scratch<T> dst = scratch<T>(n * rows * cols);
  swap_channels_into(src, n, rows, cols, dst.get());
  return dst;
}

ConvShape as_nhwc(ConvShape s) {
  s.channels_last = true;
  return s;
}

// Per-thread scratch, allocated once per thread and reused (slot 0: columns, 1: outputs).
// Aligned to Eigen's vector size: the split of a vectorized reduction over a buffer depends
// on its alignment, so every thread's buffers must agree for thread-invariant sums.
template <class T>
T* workspace(int slot, size_t count) {
  thread_local std::vector<T, Eigen::aligned_allocator<T>> buffers[2];
  if (buffers[slot].size() < count) buffers[slot].resize(count);
  return buffers[slot].data();
}

// Samples per GEMM: several samples' columns side by side make one wide product instead of
// many thin ones. Depends only on the shapes (never on the thread count, so results do not
// either) and keeps the column matrix within a memory budget.
int64_t samples_per_gemm(const ConvSlice& sl, int64_t n) {
  constexpr int64_t kMaxSamples = 8, kBudget = 1 << 21;  // elements of the column matrix
  const int64_t fit = kBudget / std::max<int64_t>(1, sl.k * sl.p);
  return std::max<int64_t>(1, std::min({kMaxSamples, fit, n}));
}

// The weight as (c_out, kh, kw, c_in / groups): row g * cout_g + o is the patch-ordered filter
// of output channel o of group g, for the patches layout. And back, for the weight gradient.
template <class T>
std::vector<T> weight_to_patch_order(const ConvSlice& sl, const T* w) {
  const ConvShape& s = sl.s;
  std::vector<T> out(s.c_out * sl.k);
  for (int64_t o = 0; o < s.c_out; ++o)
    for (int64_t c = 0; c < sl.cg; ++c)
      for (int64_t t = 0; t < s.kh * s.kw; ++t)
        out[o * sl.k + t * sl.cg + c] = w[o * sl.k + c * s.kh * s.kw + t];
  return out;
}
template <class T>
void weight_from_patch_order(const ConvSlice& sl, const T* patch_order, T* w) {
  const ConvShape& s = sl.s;
  for (int64_t o = 0; o < s.c_out; ++o)
    for (int64_t c = 0; c < sl.cg; ++c)
      for (int64_t t = 0; t < s.kh * s.kw; ++t)
        w[o * sl.k + c * s.kh * s.kw + t] = patch_order[o * sl.k + t * sl.cg + c];
}

// A chunk of samples [n0, n0 + count) and group g: its column matrix has cols() = count * p
// output positions, as (k, cols) rows or (cols, k) patches.
template <class T>
struct Chunk {
  const ConvSlice& sl;
  int64_t n0, count, g;
  int64_t cols() const { return count * sl.p; }
  const T* sample_input(const T* input, int64_t s) const {
    return input + (n0 + s) * sl.in.n + g * sl.cg * sl.in.c;
  }
  T* sample_input(T* input, int64_t s) const {
    return input + (n0 + s) * sl.in.n + g * sl.cg * sl.in.c;
  }
  void fill_columns(const T* input, T* col, bool patches) const {
    for (int64_t s = 0; s < count; ++s) {
      if (patches)
        im2col_patches(sl, sample_input(input, s), col + s * sl.p * sl.k);
      else
        im2col_rows(sl, sample_input(input, s), col + s * sl.p, cols());
    }
  }
  void add_columns(const T* col, T* grad_input, bool patches) const {
    for (int64_t s = 0; s < count; ++s) {
      if (patches)
        col2im_patches_add(sl, col + s * sl.p * sl.k, sample_input(grad_input, s));
      else
        col2im_rows_add(sl, col + s * sl.p, sample_input(grad_input, s), cols());
    }
  }
  // Group g's rows of a (c_out, k) weight matrix.
  ConstMatrixMap<T> weight(const T* w) const {
    return ConstMatrixMap<T>(w + g * sl.cout_g * sl.k, sl.cout_g, sl.k);
  }
  // NHWC: the chunk's (cols, cout_g) block of an output-shaped tensor, in place.
  template <class Ptr>
  auto nhwc_block(Ptr base) const {
    using M = std::conditional_t<std::is_const_v<std::remove_pointer_t<Ptr>>, const MatrixRM<T>,
                                 MatrixRM<T>>;
    return Eigen::Map<M, 0, Eigen::OuterStride<>>(base + n0 * sl.out.n + g * sl.cout_g, cols(),
                                                  sl.cout_g, Eigen::OuterStride<>(sl.s.c_out));
  }
  // NCHW: copies between the chunk's (cout_g, cols) matrix and the per-sample planes;
  // gather_nchw zeroes the entries whose relu_output (same layout as base) is not positive.
  void gather_nchw(const T* base, T* m, const T* relu_output) const {
    for (int64_t s = 0; s < count; ++s)
      for (int64_t c = 0; c < sl.cout_g; ++c) {
        const int64_t at = (n0 + s) * sl.out.n + (g * sl.cout_g + c) * sl.p;
        T* dst = m + c * cols() + s * sl.p;
        if (relu_output)
          for (int64_t q = 0; q < sl.p; ++q) dst[q] = relu_output[at + q] > T(0) ? base[at + q] : T(0);
        else
          simd::copy_n(base + at, sl.p, dst);
      }
  }
  void scatter_nchw(const T* m, T* base) const {
    for (int64_t s = 0; s < count; ++s)
      for (int64_t c = 0; c < sl.cout_g; ++c)
        simd::copy_n(m + c * cols() + s * sl.p, sl.p,
                     base + (n0 + s) * sl.out.n + (g * sl.cout_g + c) * sl.p);
  }
  // NHWC: the chunk's (cols, cout_g) block of grad_output masked by relu_output > 0, into m.
  void masked_nhwc(const T* base, const T* relu_output, T* m) const {
    const auto g_block = nhwc_block(base);
    const auto y_block = nhwc_block(relu_output);
    MatrixMap<T>(m, cols(), sl.cout_g) = (y_block.array() > T(0)).select(g_block, T(0));
  }
};

// ReLU as PyTorch computes it: NaN stays NaN.
template <class Block>
void relu_in_place(Block&& b) {
  using T = typename std::decay_t<Block>::Scalar;
  b = (b.array() < T(0)).select(T(0), b);
}

// Runs body(chunk, chunk index) for every (chunk of samples, group), in parallel over chunks.
template <class T, class Body>
void over_chunks(const ConvSlice& sl, int64_t per_gemm, const Body& body) {
  const int64_t n = sl.s.n, chunks = (n + per_gemm - 1) / per_gemm;
  parallel_for(chunks, 2 * per_gemm * sl.k * sl.p * sl.s.c_out, [&](int64_t b, int64_t e) {
    for (int64_t ch = b; ch < e; ++ch)
      for (int64_t g = 0; g < sl.s.groups; ++g)
        body(Chunk<T>{sl, ch * per_gemm, std::min(per_gemm, n - ch * per_gemm), g}, ch);
  });
}

}  // namespace

template <class T>
void conv2d_forward(const ConvShape& s, const T* input, const T* weight, const T* bias, T* output,
                    bool relu) {
  const ConvSlice sl(s);
  if (s.n == 0) return;
  if (conv2d_direct_applies(s)) return conv2d_direct_forward(s, input, weight, bias, output, relu);
  if (runs_as_nhwc(s)) {
    const int64_t p = sl.p;
    const Scratch<T> x = swap_channels(input, s.n, s.c_in, s.h * s.w);
    const Scratch<T> y = scratch<T>(s.n * p * s.c_out);
    conv2d_forward(as_nhwc(s), x.get(), weight, bias, y.get(), relu);
    swap_channels_into(y.get(), s.n, p, s.c_out, output);
    return;
  }
  if (conv2d_winograd_applies(s))
    return conv2d_winograd_forward(s, input, weight, bias, output, relu);
  const bool patches = uses_patches(s);
  const std::vector<T> w_patch = patches ? weight_to_patch_order(sl, weight) : std::vector<T>();
  const int64_t per_gemm = samples_per_gemm(sl, s.n);
  over_chunks<T>(sl, per_gemm, [&](const Chunk<T>& ck, int64_t) {
    T* col = workspace<T>(0, sl.k * ck.cols());
    ck.fill_columns(input, col, patches);
    if (s.channels_last) {  // the chunk's NHWC rows are the product itself
      auto out = ck.nhwc_block(output);
      if (patches)
        parallel_product(out, ConstMatrixMap<T>(col, ck.cols(), sl.k),
                ck.weight(w_patch.data()).transpose());
      else
        parallel_product(out, ConstMatrixMap<T>(col, sl.k, ck.cols()).transpose(),
                ck.weight(weight).transpose());
      if (bias) out.rowwise() += ConstVectorMap<T>(bias + ck.g * sl.cout_g, sl.cout_g).transpose();
      if (relu) relu_in_place(out);
      return;
    }
    MatrixMap<T> y(workspace<T>(1, sl.cout_g * ck.cols()), sl.cout_g, ck.cols());
    parallel_product(y, ck.weight(weight), ConstMatrixMap<T>(col, sl.k, ck.cols()));
    if (bias) y.colwise() += ConstVectorMap<T>(bias + ck.g * sl.cout_g, sl.cout_g);
    if (relu) relu_in_place(y);
    ck.scatter_nchw(y.data(), output);
  });
}

template <class T>
void conv2d_backward(const ConvShape& s, const T* grad_output, const T* input, const T* weight,
                     const T* relu_output, T* grad_input, T* grad_weight, T* grad_bias) {
  const ConvSlice sl(s);
  const int64_t w_size = s.c_out * sl.k;
  if (grad_weight) std::fill(grad_weight, grad_weight + w_size, T(0));
  if (grad_bias) std::fill(grad_bias, grad_bias + s.c_out, T(0));
  if (s.n == 0) return;
  if (!grad_input && conv2d_direct_applies(s))
    return conv2d_direct_backward_params(s, grad_output, input, relu_output, grad_weight,
                                         grad_bias);
  if (runs_as_nhwc(s)) {
    const int64_t hw = s.h * s.w;
    const Scratch<T> g = swap_channels(grad_output, s.n, s.c_out, sl.p);
    const Scratch<T> y = relu_output ? swap_channels(relu_output, s.n, s.c_out, sl.p) : nullptr;
    const Scratch<T> x = grad_weight ? swap_channels(input, s.n, s.c_in, hw) : nullptr;
    const Scratch<T> gi = grad_input ? scratch<T>(s.n * hw * s.c_in) : nullptr;
    conv2d_backward<T>(as_nhwc(s), g.get(), x ? x.get() : input, weight, y.get(), gi.get(),
                       grad_weight, grad_bias);
    if (grad_input) swap_channels_into(gi.get(), s.n, hw, s.c_in, grad_input);
    return;
  }
  if (conv2d_winograd_applies(s))
    return conv2d_winograd_backward(s, grad_output, input, weight, relu_output, grad_input,
                                    grad_weight, grad_bias);
  const bool patches = uses_patches(s);
  const std::vector<T> w_patch =
      patches && grad_input ? weight_to_patch_order(sl, weight) : std::vector<T>();
  // One partial weight and bias gradient per chunk of samples, added in chunk order afterwards:
  // the result does not depend on how many threads computed the chunks. (Patch order for the
  // patches layout.)
  const int64_t per_gemm = samples_per_gemm(sl, s.n);
  const int64_t chunks = (s.n + per_gemm - 1) / per_gemm;
  const Scratch<T> partial_w = scratch<T>(grad_weight ? chunks * w_size : 0);
  const Scratch<T> partial_b = scratch<T>(grad_bias ? chunks * s.c_out : 0);
  over_chunks<T>(sl, per_gemm, [&](const Chunk<T>& ck, int64_t ch) {
    T* col = workspace<T>(0, sl.k * ck.cols());
    T* g_buf = workspace<T>(1, sl.cout_g * ck.cols());
    // The chunk's grad_output as G (cout_g, cols) for NCHW or (cols, cout_g) for NHWC: NHWC
    // without a mask is read in place.
    const bool nhwc_in_place = s.channels_last && !relu_output;
    if (!s.channels_last)
      ck.gather_nchw(grad_output, g_buf, relu_output);
    else if (relu_output)
      ck.masked_nhwc(grad_output, relu_output, g_buf);
    const ConstMatrixMap<T> g_nchw(g_buf, sl.cout_g, ck.cols());
    const auto g_nhwc = nhwc_in_place
        ? ck.nhwc_block(grad_output)
        : Eigen::Map<const MatrixRM<T>, 0, Eigen::OuterStride<>>(g_buf, ck.cols(), sl.cout_g,
                                                               Eigen::OuterStride<>(sl.cout_g));
    if (grad_bias) {
      // Sums in an order independent of where the gradient lies in memory (Eigen's reductions
      // start at the first aligned element): equal inputs give equal gradients.
      T* gb = partial_b.get() + ch * s.c_out + ck.g * sl.cout_g;
      if (s.channels_last) {
        simd::zero_n(gb, sl.cout_g);
        for (int64_t r = 0; r < g_nhwc.rows(); ++r)
          simd::add_n(g_nhwc.data() + r * g_nhwc.outerStride(), sl.cout_g, gb);
      } else {
        for (int64_t o = 0; o < sl.cout_g; ++o)
          gb[o] = simd::sum_n(g_nchw.data() + o * ck.cols(), ck.cols());
      }
    }
    if (grad_weight) {
      ck.fill_columns(input, col, patches);
      MatrixMap<T> gw(partial_w.get() + ch * w_size + ck.g * sl.cout_g * sl.k, sl.cout_g, sl.k);
      if (patches)
        parallel_product(gw, g_nhwc.transpose(), ConstMatrixMap<T>(col, ck.cols(), sl.k));
      else if (s.channels_last)
        parallel_product(gw, g_nhwc.transpose(),
                ConstMatrixMap<T>(col, sl.k, ck.cols()).transpose());
      else
        parallel_product(gw, g_nchw, ConstMatrixMap<T>(col, sl.k, ck.cols()).transpose());
    }
    if (grad_input) {
      if (ck.g == 0)
        std::fill(grad_input + ck.n0 * sl.in.n, grad_input + (ck.n0 + ck.count) * sl.in.n, T(0));
      if (patches)
        parallel_product(MatrixMap<T>(col, ck.cols(), sl.k), g_nhwc, ck.weight(w_patch.data()));
      else if (s.channels_last)
        parallel_product(MatrixMap<T>(col, sl.k, ck.cols()), ck.weight(weight).transpose(),
                g_nhwc.transpose());
      else
        parallel_product(MatrixMap<T>(col, sl.k, ck.cols()), ck.weight(weight).transpose(),
                g_nchw);
      ck.add_columns(col, grad_input, patches);
    }
  });
  if (grad_bias) {
    VectorMap<T> sum(grad_bias, s.c_out);
    for (int64_t ch = 0; ch < chunks; ++ch)
      sum += ConstVectorMap<T>(partial_b.get() + ch * s.c_out, s.c_out);
  }
  if (grad_weight) {
    VectorMap<T> sum(patches ? partial_w.get() : grad_weight, w_size);  // patches: in chunk 0
    if (!patches) sum = ConstVectorMap<T>(partial_w.get(), w_size);
    for (int64_t ch = 1; ch < chunks; ++ch)
      sum += ConstVectorMap<T>(partial_w.get() + ch * w_size, w_size);
    if (patches) weight_from_patch_order(sl, partial_w.get(), grad_weight);
  }
}

#define EMBER_INSTANTIATE(T)                                                                  \
  template void conv2d_forward<T>(const ConvShape&, const T*, const T*, const T*, T*, bool);  \
  template void conv2d_backward<T>(const ConvShape&, const T*, const T*, const T*, const T*,  \
                                   T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
