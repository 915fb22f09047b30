// The recurrent step's product, computed in register tiles against weights packed once per call.
// Eigen re-packs both operands on every call, which for the per-step (batch x H) x (H x G*H)
// product of a recurrence costs as much as a third of the arithmetic; here the weights are packed
// once per layer call and each tile's result stays in registers for the caller's fused gate math.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace ember::rnn_detail {

template <class T>
using Packet = typename Eigen::internal::packet_traits<T>::type;
template <class T>
constexpr int kLanes = Eigen::internal::unpacket_traits<Packet<T>>::size;

// Rows per tile for `np` accumulator packets per row: the accumulators, one row of the packed
// weights and a broadcast fit in the vector registers (32 with AVX-512, 16 with AVX2 or SSE).
constexpr int tile_rows(int np) {
  return std::max(1, std::min(8, (EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS - np - 2) / np));
}

// Column panels of a (K x N) right-hand side, each (K x width) and contiguous, width = groups x
// span: the columns of panel p are, for each group q, `span` consecutive columns starting at
// q * group_stride + p * span. The recurrent weights use groups for the gates (all gates of a
// span of hidden units land in one tile) or a single group (plain column blocks). Columns past
// the end of a group are zero.
template <class T>
struct PackedPanels {
  int64_t K = 0, panels = 0, width = 0;
  std::vector<T, Eigen::aligned_allocator<T>> data;
  const T* panel(int64_t p) const { return data.data() + p * K * width; }
};

// value(k, n) is element (k, n) of the right-hand side.
template <class T, class Value>
void pack_panels(PackedPanels<T>& out, int64_t K, int64_t groups, int64_t group_size,
                 int64_t group_stride, int64_t span, const Value& value) {
  out.K = K;
  out.panels = (group_size + span - 1) / span;
  out.width = groups * span;
  out.data.assign(static_cast<size_t>(out.panels * K * out.width), T(0));
  for (int64_t p = 0; p < out.panels; ++p) {
    T* dst = out.data.data() + p * K * out.width;
    const int64_t valid = std::min(span, group_size - p * span);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t q = 0; q < groups; ++q)
        for (int64_t j = 0; j < valid; ++j)
          dst[k * out.width + q * span + j] = value(k, q * group_stride + p * span + j);
  }
}

// acc[m * NP + q] = sum over k of a[m * lda + k] * panel[k * NP * lanes + q * lanes + lane],
// m < MR. Each sum runs over k in order with one multiply-add per term whatever MR is, so a row's
// result does not depend on how rows are grouped into tiles (nor on the thread that runs it).
template <class T, int MR, int NP>
EIGEN_ALWAYS_INLINE void tile_product(const T* a, int64_t lda, const T* panel, int64_t K,
                                      Packet<T>* acc) {
  using namespace Eigen::internal;
  using P = Packet<T>;
  constexpr int L = kLanes<T>;
  P c[MR][NP];
  for (int m = 0; m < MR; ++m)
    for (int q = 0; q < NP; ++q) c[m][q] = pset1<P>(T(0));
  for (int64_t k = 0; k < K; ++k) {
    const T* bk = panel + k * NP * L;
    P b[NP];
    for (int q = 0; q < NP; ++q) b[q] = pload<P>(bk + q * L);
    for (int m = 0; m < MR; ++m) {
      const P am = pset1<P>(a[m * lda + k]);
      for (int q = 0; q < NP; ++q) c[m][q] = pmadd(am, b[q], c[m][q]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int q = 0; q < NP; ++q) acc[m * NP + q] = c[m][q];
}

// Runs tile_product over `rows` rows (row r at a + r * lda) in tiles of MR rows and the smaller
// remainder tile, calling epilogue(first_row, rows_in_tile, acc) after each.
template <class T, int NP, int MR = tile_rows(NP), class Epilogue>
void for_each_tile(const T* a, int64_t lda, int64_t rows, const T* panel, int64_t K,
                   const Epilogue& epilogue) {
  Packet<T> acc[MR * NP];
  int64_t r = 0;
  for (; r + MR <= rows; r += MR) {
    tile_product<T, MR, NP>(a + r * lda, lda, panel, K, acc);
    epilogue(r, MR, acc);
  }
  if constexpr (MR > 1) {
    if (rows - r > 0) for_each_tile<T, NP, MR - 1>(a + r * lda, lda, rows - r, panel, K,
                                                   [&](int64_t r0, int m, const Packet<T>* t) {
                                                     epilogue(r + r0, m, t);
                                                   });
  }
}

}  // namespace ember::rnn_detail
