#include "ember/conv_winograd.h"

#include <Eigen/Core>
#include <algorithm>
#include <memory>
#include <vector>

#include "ember/derived_weights.h"
#include "ember/eigen_maps.h"
#include "ember/parallel.h"
#include "ember/scratch.h"
#include "ember/simd.h"
#include "ember/transpose.h"

namespace ember {

namespace {

using namespace simd;

// Below this many channels on either side the 16 small products run far from the GEMM's peak
// and im2col's one product is faster (measured on the benchmarked CNNs' layers).
constexpr int64_t kMinChannels = 16;

// The one-dimensional transforms, on 4 (3 or 2) values x0.. into y[0], y[step], ...; the 2-D
// transforms apply them down the columns of a 4x4 (4x3, 2x2) block, then along its rows.
// Forward: V = Bt d B (input window d), U = G g Gt (filter g), Y = At (U . V) A (outputs).
// Backward, their adjoints: dM = A dY At, dd = B (dM . U) Bt, dg = Gt (dM . V) G.
template <class V>
inline void apply_bt(V x0, V x1, V x2, V x3, V* y, int step) {
  y[0] = x0 - x2, y[step] = x1 + x2, y[2 * step] = x2 - x1, y[3 * step] = x1 - x3;
}
template <class V>
inline void apply_b(V x0, V x1, V x2, V x3, V* y, int step) {
  y[0] = x0, y[step] = x1 - x2 + x3, y[2 * step] = x1 + x2 - x0, y[3 * step] = -x3;
}
template <class V>
inline void apply_at(V x0, V x1, V x2, V x3, V* y, int step) {
  y[0] = x0 + x1 + x2, y[step] = x1 - x2 - x3;
}
template <class V>
inline void apply_a(V x0, V x1, V* y, int step) {
  y[0] = x0, y[step] = x0 + x1, y[2 * step] = x0 - x1, y[3 * step] = -x1;
}
template <class V>
inline void apply_g(V x0, V x1, V x2, V* y, int step) {
  y[0] = x0, y[step] = (x0 + x1 + x2) * 0.5f, y[2 * step] = (x0 - x1 + x2) * 0.5f, y[3 * step] = x2;
}
template <class V>
inline void apply_gt(V x0, V x1, V x2, V x3, V* y, int step) {
  y[0] = x0 + (x1 + x2) * 0.5f, y[step] = (x1 - x2) * 0.5f, y[2 * step] = (x1 + x2) * 0.5f + x3;
}

// d (4x4) -> Bt d B
template <class V>
inline void input_transform(const V* d, V* v) {
  V t[16];
  for (int j = 0; j < 4; ++j) apply_bt(d[j], d[4 + j], d[8 + j], d[12 + j], t + j, 4);
  for (int i = 0; i < 4; ++i)
    apply_bt(t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3], v + 4 * i, 1);
}
// dV (4x4) -> B dV Bt
template <class V>
inline void input_transform_adjoint(const V* dv, V* dd) {
  V t[16];
  for (int j = 0; j < 4; ++j) apply_b(dv[j], dv[4 + j], dv[8 + j], dv[12 + j], t + j, 4);
  for (int i = 0; i < 4; ++i)
    apply_b(t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3], dd + 4 * i, 1);
}
// M (4x4) -> At M A (2x2)
template <class V>
inline void output_transform(const V* m, V* y) {
  V t[8];
  for (int j = 0; j < 4; ++j) apply_at(m[j], m[4 + j], m[8 + j], m[12 + j], t + j, 4);
  for (int i = 0; i < 2; ++i)
    apply_at(t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3], y + 2 * i, 1);
}
// dY (2x2) -> A dY At (4x4)
template <class V>
inline void output_transform_adjoint(const V* dy, V* dm) {
  V t[8];
  for (int j = 0; j < 2; ++j) apply_a(dy[j], dy[2 + j], t + j, 2);
  for (int i = 0; i < 4; ++i) apply_a(t[2 * i], t[2 * i + 1], dm + 4 * i, 1);
}

// Where the tiles lie: tile t of the batch is sample t / per_image, tile row and column
// (t % per_image) / tiles_w and % tiles_w; its outputs start at (2 row, 2 column) and its input
// window at (2 row - pad_top, 2 column - pad_left).
struct Tiles {
  const ConvShape& s;
  int64_t out_h, out_w, tiles_h, tiles_w, per_image;
  explicit Tiles(const ConvShape& s)
      : s(s), out_h(s.out_h()), out_w(s.out_w()), tiles_h((out_h + 1) / 2),
        tiles_w((out_w + 1) / 2), per_image(tiles_h * tiles_w) {}

  // The 4x4 window's pixel vectors (c_in long) of tile t, or `outside` beyond the image.
  template <class P>
  void input_window(P input, int64_t t, P outside, P* p) const {
    const int64_t n = t / per_image, r = t % per_image;
    const int64_t y0 = 2 * (r / tiles_w) - s.pad_top, x0 = 2 * (r % tiles_w) - s.pad_left;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const int64_t y = y0 + i, x = x0 + j;
        p[4 * i + j] = y >= 0 && y < s.h && x >= 0 && x < s.w
                           ? input + ((n * s.h + y) * s.w + x) * s.c_in : outside;
      }
  }
  // The 2x2 outputs' pixel vectors (c_out long) of tile t, or null past the output's edge.
  template <class P>
  void output_block(P output, int64_t t, P* p) const {
    const int64_t n = t / per_image, r = t % per_image;
    const int64_t y0 = 2 * (r / tiles_w), x0 = 2 * (r % tiles_w);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 2; ++j) {
        const int64_t y = y0 + i, x = x0 + j;
        p[2 * i + j] = y < out_h && x < out_w ? output + ((n * out_h + y) * out_w + x) * s.c_out
                                              : nullptr;
      }
  }
};

template <class T>
inline Vec<T> load_part(const T* p, int m) {
  return m == lanes<T> ? load<Vec<T>>(p) : load_first<Vec<T>>(p, m);
}
template <class T>
inline void store_part(T* p, const Vec<T>& v, int m) {
  if (m == lanes<T>)
    store(p, v);
  else
    store_first(p, v, m);
}

// Tiles per batch of products: the transformed inputs and outputs of a batch stay within about
// 1 MB (float32), near the L2 cache. Fixed by the shapes alone, so results do not depend on the
// thread count.
int64_t tiles_per_batch(const ConvShape& s) {
  constexpr int64_t kBudget = 1 << 18;  // elements
  return std::clamp<int64_t>(kBudget / (16 * (s.c_in + s.c_out)), 16, 512);
}

// Transformed layout: [16][count][channels], one (count, channels) matrix per point k.
template <class T>
void transform_inputs(const Tiles& tl, const T* input, const T* zeros, int64_t t0, int64_t count,
                      T* v) {
  const int64_t c = tl.s.c_in, plane = count * c;
  constexpr int L = lanes<T>;
  for (int64_t t = 0; t < count; ++t) {
    const T* p[16];
    tl.input_window(input, t0 + t, zeros, p);
    for (int64_t c0 = 0; c0 < c; c0 += L) {
      const int m = int(std::min<int64_t>(L, c - c0));
      Vec<T> d[16], r[16];
      for (int q = 0; q < 16; ++q) d[q] = load_part(p[q] + c0, m);
      input_transform(d, r);
      for (int q = 0; q < 16; ++q) store_part(v + q * plane + t * c + c0, r[q], m);
    }
  }
}

template <class T>
void transform_outputs(const Tiles& tl, const T* mt, const T* bias, bool relu, int64_t t0,
                       int64_t count, T* output) {
  const int64_t c = tl.s.c_out, plane = count * c;
  constexpr int L = lanes<T>;
  for (int64_t t = 0; t < count; ++t) {
    T* p[4];
    tl.output_block(output, t0 + t, p);
    for (int64_t c0 = 0; c0 < c; c0 += L) {
      const int m = int(std::min<int64_t>(L, c - c0));
      Vec<T> mv[16], y[4];
      for (int q = 0; q < 16; ++q) mv[q] = load_part(mt + q * plane + t * c + c0, m);
      output_transform(mv, y);
      const Vec<T> b = bias ? load_part(bias + c0, m) : Vec<T>{};
      for (int q = 0; q < 4; ++q) {
        if (!p[q]) continue;
        Vec<T> out = y[q] + b;
        if (relu) out = out < Vec<T>{} ? Vec<T>{} : out;  // NaN stays NaN, as PyTorch's relu
        store_part(p[q] + c0, out, m);
      }
    }
  }
}

// dM of the batch from grad_output (masked where relu_output is not positive), and the bias
// gradient's running sum over the batch's output positions in tile order.
template <class T>
void transform_grad_outputs(const Tiles& tl, const T* grad_output, const T* relu_output,
                            int64_t t0, int64_t count, T* dm, T* grad_bias) {
  const int64_t c = tl.s.c_out, plane = count * c;
  constexpr int L = lanes<T>;
  for (int64_t t = 0; t < count; ++t) {
    const T* g[4];
    const T* y[4];
    tl.output_block(grad_output, t0 + t, g);
    if (relu_output) tl.output_block(relu_output, t0 + t, y);
    for (int64_t c0 = 0; c0 < c; c0 += L) {
      const int m = int(std::min<int64_t>(L, c - c0));
      Vec<T> dy[4], r[16];
      for (int q = 0; q < 4; ++q) {
        dy[q] = g[q] ? load_part(g[q] + c0, m) : Vec<T>{};
        if (g[q] && relu_output) dy[q] = load_part(y[q] + c0, m) > Vec<T>{} ? dy[q] : Vec<T>{};
      }
      if (grad_bias) {
        Vec<T> sum = load_part(grad_bias + c0, m);
        for (int q = 0; q < 4; ++q) sum += dy[q];
        store_part(grad_bias + c0, sum, m);
      }
      output_transform_adjoint(dy, r);
      for (int q = 0; q < 16; ++q) store_part(dm + q * plane + t * c + c0, r[q], m);
    }
  }
}

// grad_input += the batch's dV, carried back through the input transform onto each window.
template <class T>
void add_grad_inputs(const Tiles& tl, const T* dv, int64_t t0, int64_t count, T* grad_input) {
  const int64_t c = tl.s.c_in, plane = count * c;
  constexpr int L = lanes<T>;
  for (int64_t t = 0; t < count; ++t) {
    T* p[16];
    tl.input_window<T*>(grad_input, t0 + t, nullptr, p);
    for (int64_t c0 = 0; c0 < c; c0 += L) {
      const int m = int(std::min<int64_t>(L, c - c0));
      Vec<T> d[16], r[16];
      for (int q = 0; q < 16; ++q) d[q] = load_part(dv + q * plane + t * c + c0, m);
      input_transform_adjoint(d, r);
      for (int q = 0; q < 16; ++q)
        if (p[q]) store_part(p[q] + c0, load_part(p[q] + c0, m) + r[q], m);
    }
  }
}

// U = G g Gt for every (c_in, c_out) filter, as [16][c_in][c_out]. The filters are first
// transposed to [c_in][9][c_out], so the transform runs on vectors of output channels with
// contiguous loads and stores (filter by filter, it was most of a batch-1 forward).
template <class T>
std::unique_ptr<T[]> transform_weights(const ConvShape& s, const T* weight) {
  const int64_t ci = s.c_in, co = s.c_out;
  constexpr int L = lanes<T>;
  // Every element is written before it is read: no zero fill (a 128 KB memset at batch 1).
  std::unique_ptr<T[]> taps(new T[9 * ci * co]), u(new T[16 * ci * co]);
  transpose(weight, co, 9 * ci, taps.get());
  for (int64_t i = 0; i < ci; ++i)
    for (int64_t o0 = 0; o0 < co; o0 += L) {
      const int m = int(std::min<int64_t>(L, co - o0));
      Vec<T> g[9], t[12], r[16];
      for (int q = 0; q < 9; ++q) g[q] = load_part(taps.get() + (i * 9 + q) * co + o0, m);
      for (int j = 0; j < 3; ++j) apply_g(g[j], g[3 + j], g[6 + j], t + j, 3);
      for (int k = 0; k < 4; ++k) apply_g(t[3 * k], t[3 * k + 1], t[3 * k + 2], r + 4 * k, 1);
      for (int q = 0; q < 16; ++q) store_part(u.get() + (q * ci + i) * co + o0, r[q], m);
    }
  return u;
}

// transform_weights, or its result for the same filters in this thread's last calls: a
// batch-1 forward spent 15% of its time transforming the same filters again, and a training
// step's backward transforms the filters its forward just did.
template <class T>
typename DerivedWeights<T>::Array transformed_weights(const ConvShape& s, const T* weight) {
  constexpr int kWinogradFilters = 1;
  const int64_t filters = s.c_in * s.c_out;
  return DerivedWeights<T>::get(kWinogradFilters, weight, 9 * filters, 16 * filters,
                                [&] { return transform_weights(s, weight); });
}

// grad_weight = Gt dU G for every filter, from dU as [16][c_in][c_out] (through [c_in][9][c_out]
// as above).
template <class T>
void weight_gradient_from(const ConvShape& s, const T* du, T* grad_weight) {
  const int64_t ci = s.c_in, co = s.c_out;
  constexpr int L = lanes<T>;
  std::unique_ptr<T[]> taps(new T[9 * ci * co]);
  for (int64_t i = 0; i < ci; ++i)
    for (int64_t o0 = 0; o0 < co; o0 += L) {
      const int m = int(std::min<int64_t>(L, co - o0));
      Vec<T> d[16], t[12], g[9];
      for (int q = 0; q < 16; ++q) d[q] = load_part(du + (q * ci + i) * co + o0, m);
      for (int j = 0; j < 4; ++j) apply_gt(d[j], d[4 + j], d[8 + j], d[12 + j], t + j, 4);
      for (int k = 0; k < 3; ++k)
        apply_gt(t[4 * k], t[4 * k + 1], t[4 * k + 2], t[4 * k + 3], g + 3 * k, 1);
      for (int q = 0; q < 9; ++q) store_part(taps.get() + (i * 9 + q) * co + o0, g[q], m);
    }
  transpose(taps.get(), 9 * ci, co, grad_weight);
}

template <class T>
ConstMatrixMap<T> point(const T* base, int64_t k, int64_t rows, int64_t cols) {
  return ConstMatrixMap<T>(base + k * rows * cols, rows, cols);
}
template <class T>
MatrixMap<T> point(T* base, int64_t k, int64_t rows, int64_t cols) {
  return MatrixMap<T>(base + k * rows * cols, rows, cols);
}

// Blocks of samples for the backward pass: each block's weight and bias gradients are summed
// apart (at most 16 blocks, within a memory budget) and its input gradient written by one
// thread, so overlapping windows of one sample never race.
int64_t samples_per_block(const ConvShape& s) {
  constexpr int64_t kMaxBlocks = 16, kBudget = int64_t(1) << 24;  // elements of the partials
  const int64_t by_memory = std::max<int64_t>(1, kBudget / (16 * s.c_in * s.c_out));
  const int64_t blocks = std::max<int64_t>(1, std::min({kMaxBlocks, by_memory, s.n}));
  return (s.n + blocks - 1) / blocks;
}

// M[k] = V[k] U[k] for the points k in [k0, k1) of a batch of `count` tiles.
template <class T>
void multiply_points(const T* v, const T* u, int64_t count, int64_t ci, int64_t co, int64_t k0,
                     int64_t k1, T* m) {
  for (int64_t k = k0; k < k1; ++k)
    point(m, k, count, co).noalias() = point<T>(v, k, count, ci) * point<T>(u, k, ci, co);
}

// All tiles in one batch (small inputs, batch-1 inference): its 16 products go to the threads
// instead, each whole on one thread with single-threaded Eigen, so the result is the same for
// any thread count.
template <class T>
void forward_one_batch(const Tiles& tl, const T* input, const T* u, const T* zeros,
                       const T* bias, bool relu, T* output) {
  const ConvShape& s = tl.s;
  const int64_t ci = s.c_in, co = s.c_out, count = s.n * tl.per_image;
  ScratchArena arena(ScratchArena::bytes<T>(16 * count * ci) +
                     ScratchArena::bytes<T>(16 * count * co));
  T* v = arena.take<T>(16 * count * ci);
  T* m = arena.take<T>(16 * count * co);
  transform_inputs(tl, input, zeros, 0, count, v);
  parallel_for(16, 2 * count * ci * co, [&](int64_t k0, int64_t k1) {
    multiply_points(v, u, count, ci, co, k0, k1, m);
  });
  transform_outputs(tl, m, bias, relu, 0, count, output);
}

}  // namespace

bool conv2d_winograd_applies(const ConvShape& s) {
  return s.channels_last && s.kh == 3 && s.kw == 3 && s.stride_h == 1 && s.stride_w == 1 &&
         s.dilation_h == 1 && s.dilation_w == 1 && s.groups == 1 && s.c_in >= kMinChannels &&
         s.c_out >= kMinChannels;
}

template <class T>
void conv2d_winograd_forward(const ConvShape& s, const T* input, const T* weight, const T* bias,
                             T* output, bool relu) {
  const Tiles tl(s);
  const int64_t ci = s.c_in, co = s.c_out, tiles = s.n * tl.per_image;
  if (tiles == 0) return;
  const auto u = transformed_weights(s, weight);
  const std::vector<T> zeros(ci, T(0));
  const int64_t batch = tiles_per_batch(s), batches = (tiles + batch - 1) / batch;
  if (batches == 1) return forward_one_batch(tl, input, u.get(), zeros.data(), bias, relu, output);
  // Each chunk of batches gets its slice of one arena, taken before the parallel region (which
  // must not throw) and kept by this thread from call to call (no fresh pages).
  const int64_t cost = 32 * batch * ci * co, chunks = parallel_chunks(batches, cost);
  const size_t slice =
      ScratchArena::bytes<T>(16 * batch * ci) + ScratchArena::bytes<T>(16 * batch * co);
  ScratchArena arena(chunks * slice);
  char* base = arena.take<char>(chunks * slice);
  parallel_chunks_for(batches, cost, [&](int chunk, int64_t b, int64_t e) {
    T* v = reinterpret_cast<T*>(base + chunk * slice);
    T* m = reinterpret_cast<T*>(base + chunk * slice + ScratchArena::bytes<T>(16 * batch * ci));
    for (int64_t bt = b; bt < e; ++bt) {
      const int64_t t0 = bt * batch, count = std::min(batch, tiles - t0);
      transform_inputs(tl, input, zeros.data(), t0, count, v);
      multiply_points(v, u.get(), count, ci, co, 0, 16, m);
      transform_outputs(tl, m, bias, relu, t0, count, output);
    }
  });
}

template <class T>
void conv2d_winograd_backward(const ConvShape& s, const T* grad_output, const T* input,
                              const T* weight, const T* relu_output, T* grad_input,
                              T* grad_weight, T* grad_bias) {
  const Tiles tl(s);
  const int64_t ci = s.c_in, co = s.c_out, per_image = tl.per_image;
  const int64_t u_size = 16 * ci * co;
  const auto u = grad_input ? transformed_weights(s, weight) : nullptr;
  const std::vector<T> zeros(ci, T(0));
  const int64_t per_block = samples_per_block(s), blocks = (s.n + per_block - 1) / per_block;
  const int64_t batch = tiles_per_batch(s);
  std::vector<T> partial_u(grad_weight ? blocks * u_size : 0);
  std::vector<T> partial_b(grad_bias ? blocks * co : 0);
  const int64_t cost = 48 * per_block * per_image * ci * co, chunks = parallel_chunks(blocks, cost);
  const size_t slice =
      ScratchArena::bytes<T>(16 * batch * co) + ScratchArena::bytes<T>(16 * batch * ci);
  ScratchArena arena(chunks * slice);  // as in the forward pass
  char* base = arena.take<char>(chunks * slice);
  parallel_chunks_for(blocks, cost, [&](int chunk, int64_t b, int64_t e) {
    T* dm = reinterpret_cast<T*>(base + chunk * slice);
    // The inputs' transform, then dV.
    T* v = reinterpret_cast<T*>(base + chunk * slice + ScratchArena::bytes<T>(16 * batch * co));
    for (int64_t blk = b; blk < e; ++blk) {
      const int64_t n0 = blk * per_block, n1 = std::min(s.n, n0 + per_block);
      const int64_t end = n1 * per_image;
      T* du = grad_weight ? partial_u.data() + blk * u_size : nullptr;
      T* db = grad_bias ? partial_b.data() + blk * co : nullptr;
      if (grad_input)
        std::fill(grad_input + n0 * s.h * s.w * ci, grad_input + n1 * s.h * s.w * ci, T(0));
      for (int64_t t0 = n0 * per_image; t0 < end; t0 += batch) {
        const int64_t count = std::min(batch, end - t0);
        transform_grad_outputs(tl, grad_output, relu_output, t0, count, dm, db);
        if (grad_weight) {
          transform_inputs(tl, input, zeros.data(), t0, count, v);
          for (int k = 0; k < 16; ++k) {
            auto du_k = point(du, k, ci, co);
            if (t0 == n0 * per_image)
              du_k.noalias() = point<T>(v, k, count, ci).transpose() * point<T>(dm, k, count, co);
            else
              du_k.noalias() += point<T>(v, k, count, ci).transpose() * point<T>(dm, k, count, co);
          }
        }
        if (grad_input) {
          for (int k = 0; k < 16; ++k)
            point(v, k, count, ci).noalias() =
                point<T>(dm, k, count, co) * point<T>(u.get(), k, ci, co).transpose();
          add_grad_inputs(tl, v, t0, count, grad_input);
        }
      }
    }
  });
  if (grad_bias) {
    VectorMap<T> sum(grad_bias, co);
    sum.setZero();
    for (int64_t blk = 0; blk < blocks; ++blk)
      sum += ConstVectorMap<T>(partial_b.data() + blk * co, co);
  }
  if (grad_weight) {
    VectorMap<T> sum(partial_u.data(), u_size);  // into block 0's partial
    for (int64_t blk = 1; blk < blocks; ++blk)
      sum += ConstVectorMap<T>(partial_u.data() + blk * u_size, u_size);
    weight_gradient_from(s, partial_u.data(), grad_weight);
  }
}

#define EMBER_INSTANTIATE(T)                                                                    \
  template void conv2d_winograd_forward<T>(const ConvShape&, const T*, const T*, const T*, T*, \
                                           bool);                                               \
  template void conv2d_winograd_backward<T>(const ConvShape&, const T*, const T*, const T*,    \
                                            const T*, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
