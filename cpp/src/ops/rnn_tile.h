// The recurrent step's product, computed in register tiles against weights packed once per call.
// Eigen re-packs both operands on every call, which for the per-step (batch x H) x (H x G*H)
// product of a recurrence costs as much as a third of the arithmetic; here the weights are packed
// once per layer call and each tile's result stays in registers for the caller's fused gate math.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>

#include "ember/simd.h"

namespace ember::rnn_detail {

template <class T>
using Packet = typename Eigen::internal::packet_traits<T>::type;
template <class T>
constexpr int kLanes = Eigen::internal::unpacket_traits<Packet<T>>::size;

constexpr int kRegisters = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS;  // 32 AVX-512, 16 AVX2/SSE

// Rows per tile for `np` accumulator packets per row: as many accumulators as fit beside a
// broadcast and two spare registers (the packed weights are read as memory operands). Measured
// on Zen 4: AVX2 tiles of 3 x 4 packets run the backward's product at 104 GFLOP/s, against 80
// for 2 x 4 with the weights held in registers; AVX-512 is the same with 6 or 7 rows.
constexpr int tile_rows(int np) {
  return std::max(1, std::min(8, (kRegisters - 3) / np));
}

// The rows of a left-hand side: row r at a + r * lda.
template <class T>
struct Rows {
  const T* a;
  int64_t lda;
};

// A right-hand side whose element (k, n) is src[k * k_stride + n * n_stride], k < K.
template <class T>
struct Source {
  const T* src;
  int64_t k_stride, n_stride, K;
};

// Column panels of a right-hand side made of two sources stacked along k (the input and the
// recurrent weights; K1 may be 0), each panel (K1 + K2) x width and contiguous, width = groups x
// span: the columns of panel p are, for each group q, `span` consecutive columns starting at
// q * group_stride + p * span. The recurrent weights use groups for the gates (all gates of a
// span of hidden units land in one tile) or a single group (plain column blocks). Columns past
// the end of a group are zero.
template <class T>
struct PackedPanels {
  int64_t K1 = 0, K2 = 0, panels = 0, width = 0;
  T* data = nullptr;  // panels * stride() elements, aligned to the packet size
  int64_t stride() const { return (K1 + K2) * width; }
  const T* panel(int64_t p) const { return data + p * stride(); }
  // The elements needed for K rows of `groups` groups of `group_size` columns in spans of `span`.
  static int64_t size(int64_t K, int64_t groups, int64_t group_size, int64_t span) {
    return (group_size + span - 1) / span * K * groups * span;
  }
};

// Copies source rows [0, s.K) into dst (row stride `width`), reading along the source's
// contiguous direction.
template <class T>
void pack_source(const Source<T>& s, int64_t col0, int64_t valid, int64_t width, T* dst) {
  const T* src = s.src + col0 * s.n_stride;
  if (s.n_stride == 1) {
    for (int64_t k = 0; k < s.K; ++k)
      std::copy(src + k * s.k_stride, src + k * s.k_stride + valid, dst + k * width);
    return;
  }
  // A transpose, in blocks of lanes x lanes: whole blocks in vector registers (a third of the
  // time of element copies, which made packing the cost of a batch-1 call), the edges by element.
  using V = simd::Vec<T>;
  constexpr int64_t L = simd::lanes<T>;
  for (int64_t j0 = 0; j0 < valid; j0 += L)
    for (int64_t k0 = 0; k0 < s.K; k0 += L) {
      const int64_t nj = std::min(L, valid - j0), nk = std::min(L, s.K - k0);
      if (nj == L && nk == L && s.k_stride == 1) {
        V r[L];
        for (int64_t j = 0; j < L; ++j) r[j] = simd::load<V>(src + (j0 + j) * s.n_stride + k0);
        for (int64_t round = 1; round < L; round *= 2) {  // log2(L) rounds of pairwise zips
          V z[L];
          for (int64_t i = 0; i < L / 2; ++i)
            simd::interleave<T>(r[i], r[i + L / 2], z[2 * i], z[2 * i + 1]);
          std::copy(z, z + L, r);
        }
        for (int64_t k = 0; k < L; ++k) simd::store(dst + (k0 + k) * width + j0, r[k]);
        continue;
      }
      for (int64_t j = 0; j < nj; ++j)
        for (int64_t k = 0; k < nk; ++k)
          dst[(k0 + k) * width + j0 + j] = src[(j0 + j) * s.n_stride + (k0 + k) * s.k_stride];
    }
}

// Packs into `storage` (PackedPanels::size(s1.K + s2.K, ...) elements, packet-aligned).
template <class T>
PackedPanels<T> pack_panels(T* storage, const Source<T>& s1, const Source<T>& s2, int64_t groups,
                            int64_t group_size, int64_t group_stride, int64_t span) {
  PackedPanels<T> out;
  out.K1 = s1.K;
  out.K2 = s2.K;
  out.panels = (group_size + span - 1) / span;
  out.width = groups * span;
  out.data = storage;
  for (int64_t p = 0; p < out.panels; ++p) {
    T* dst = out.data + p * out.stride();
    const int64_t valid = std::min(span, group_size - p * span);
    if (valid < span) std::fill(dst, dst + out.stride(), T(0));  // columns past the group end
    for (int64_t q = 0; q < groups; ++q) {
      const int64_t col0 = q * group_stride + p * span;
      if (s1.K) pack_source(s1, col0, valid, out.width, dst + q * span);
      pack_source(s2, col0, valid, out.width, dst + s1.K * out.width + q * span);
    }
  }
  return out;
}

// For NPAN panels (panel j at panel + j * panel_stride) and MR rows, the products of the rows of
// a1 with the panels' first K1 rows plus the rows of a2 with their next K2 rows, in NACC packets
// per row and panel: acc[(j * MR + m) * NACC + q]. Each panel row holds NP packets; packet q
// accumulates into slot q, except that with NACC = NP + 1 the last packet of the second part
// goes to a slot of its own (GRU keeps W_in x and W_hn h apart). Each sum runs over k in order
// with one multiply-add per term whatever MR and NPAN are, so a row's result does not depend on
// how rows and panels are grouped into tiles (nor on the thread that runs it).
template <class T, int MR, int NP, int NACC, int NPAN>
EIGEN_ALWAYS_INLINE void tile_product(const Rows<T>& a1, const Rows<T>& a2, const T* panel,
                                      int64_t panel_stride, int64_t K1, int64_t K2,
                                      Packet<T>* acc) {
  using namespace Eigen::internal;
  using P = Packet<T>;
  constexpr int L = kLanes<T>;
  static_assert(NACC == NP || NACC == NP + 1, "one extra slot at most");
  P c[NPAN][MR][NACC];
  for (int j = 0; j < NPAN; ++j)
    for (int m = 0; m < MR; ++m)
      for (int q = 0; q < NACC; ++q) c[j][m][q] = pset1<P>(T(0));
  for (int64_t k = 0; k < K1; ++k) {
    P b[NPAN][NP];
    for (int j = 0; j < NPAN; ++j)
      for (int q = 0; q < NP; ++q) b[j][q] = pload<P>(panel + j * panel_stride + (k * NP + q) * L);
    for (int m = 0; m < MR; ++m) {
      const P am = pset1<P>(a1.a[m * a1.lda + k]);
      for (int j = 0; j < NPAN; ++j)
        for (int q = 0; q < NP; ++q) c[j][m][q] = pmadd(am, b[j][q], c[j][m][q]);
    }
  }
  const T* panel2 = panel + K1 * NP * L;
  for (int64_t k = 0; k < K2; ++k) {
    P b[NPAN][NP];
    for (int j = 0; j < NPAN; ++j)
      for (int q = 0; q < NP; ++q)
        b[j][q] = pload<P>(panel2 + j * panel_stride + (k * NP + q) * L);
    for (int m = 0; m < MR; ++m) {
      const P am = pset1<P>(a2.a[m * a2.lda + k]);
      for (int j = 0; j < NPAN; ++j)
        for (int q = 0; q < NP; ++q) {
          constexpr int last = NACC - 1;
          P& slot = (q == NP - 1) ? c[j][m][last] : c[j][m][q];
          slot = pmadd(am, b[j][q], slot);
        }
    }
  }
  for (int j = 0; j < NPAN; ++j)
    for (int m = 0; m < MR; ++m)
      for (int q = 0; q < NACC; ++q) acc[(j * MR + m) * NACC + q] = c[j][m][q];
}

template <class T>
Rows<T> offset(const Rows<T>& r, int64_t first) {
  return {r.a + first * r.lda, r.lda};
}

// Rows m < M left over by the full tiles: M rows of several panels at a time, so that a thin
// tile (down to a single sample) still has enough independent sums to keep the FMA units busy.
template <class T, int NP, int NACC, int M, class Epilogue>
void leftover_rows(const Rows<T>& a1, const Rows<T>& a2, int64_t r0, int64_t rows,
                   const PackedPanels<T>& w, const Epilogue& epilogue) {
  if constexpr (M >= 1) {
    if (rows != M) return leftover_rows<T, NP, NACC, M - 1>(a1, a2, r0, rows, w, epilogue);
    constexpr int budget = tile_rows(NACC) / M;
    constexpr int NPAN = budget >= 4 ? 4 : budget >= 2 ? 2 : 1;
    const Rows<T> b1 = offset(a1, r0), b2 = offset(a2, r0);
    Packet<T> acc[NPAN * M * NACC];
    int64_t p = 0;
    for (; p + NPAN <= w.panels; p += NPAN) {
      tile_product<T, M, NP, NACC, NPAN>(b1, b2, w.panel(p), w.stride(), w.K1, w.K2, acc);
      for (int j = 0; j < NPAN; ++j) epilogue(r0, M, p + j, acc + j * M * NACC);
    }
    for (; p < w.panels; ++p) {
      tile_product<T, M, NP, NACC, 1>(b1, b2, w.panel(p), 0, w.K1, w.K2, acc);
      epilogue(r0, M, p, acc);
    }
  }
}

// The products of `rows` rows of a1 and a2 with every panel of w, in register tiles;
// epilogue(first_row, rows_in_tile, panel, acc) receives each tile's acc[m * NACC + q]. Panels
// are the outer loop, so that each is reused by the tiles of all rows while it is in cache.
template <class T, int NP, int NACC, class Epilogue>
void panel_products(const Rows<T>& a1, const Rows<T>& a2, int64_t rows, const PackedPanels<T>& w,
                    const Epilogue& epilogue) {
  constexpr int MR = tile_rows(NACC);
  const int64_t full = rows / MR * MR;
  Packet<T> acc[MR * NACC];
  for (int64_t p = 0; p < w.panels; ++p)
    for (int64_t r = 0; r < full; r += MR) {
      tile_product<T, MR, NP, NACC, 1>(offset(a1, r), offset(a2, r), w.panel(p), 0, w.K1, w.K2,
                                       acc);
      epilogue(r, MR, p, acc);
    }
  if (rows > full) leftover_rows<T, NP, NACC, MR - 1>(a1, a2, full, rows - full, w, epilogue);
}

// C += A^T B for an MR x NP-packet block of C (row m at c + m * ldc): A^T's element (m, k) is
// a[k * a_k + m], B's row k starts at b + k * ldb (read in place, unaligned). Each element's sum
// continues in k order from C's value, one multiply-add per term.
template <class T, int MR, int NP>
EIGEN_ALWAYS_INLINE void tile_rank_update(const T* a, int64_t a_k, const T* b, int64_t ldb,
                                          int64_t K, T* c, int64_t ldc) {
  using namespace Eigen::internal;
  using P = Packet<T>;
  constexpr int L = kLanes<T>;
  P acc[MR][NP];
  for (int m = 0; m < MR; ++m)
    for (int q = 0; q < NP; ++q) acc[m][q] = ploadu<P>(c + m * ldc + q * L);
  for (int64_t k = 0; k < K; ++k) {
    P bk[NP];
    for (int q = 0; q < NP; ++q) bk[q] = ploadu<P>(b + k * ldb + q * L);
    for (int m = 0; m < MR; ++m) {
      const P am = pset1<P>(a[k * a_k + m]);
      for (int q = 0; q < NP; ++q) acc[m][q] = pmadd(am, bk[q], acc[m][q]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int q = 0; q < NP; ++q) pstoreu(c + m * ldc + q * L, acc[m][q]);
}

// Rows [m0, M) of the block column in tiles of MR rows, then smaller ones.
template <class T, int NP, int MR>
void rank_update_rows(const T* a, int64_t a_k, int64_t m0, int64_t M, const T* b, int64_t ldb,
                      int64_t K, T* c, int64_t ldc) {
  if constexpr (MR >= 1) {
    for (; m0 + MR <= M; m0 += MR)
      tile_rank_update<T, MR, NP>(a + m0, a_k, b, ldb, K, c + m0 * ldc, ldc);
    if (m0 < M) rank_update_rows<T, NP, MR - 1>(a, a_k, m0, M, b, ldb, K, c, ldc);
  }
}

// C (M x N, row stride ldc) += A^T B over k < K, as tile_rank_update; N is a multiple of the
// packet width (callers pad B's rows and C's columns). Blocks of 4 packets with AVX-512, 2 with
// 16 registers (measured: 94-99 GFLOP/s with AVX2 against 54 for 2 x 4 and 77 for 3 x 4).
template <class T>
void rank_update(const T* a, int64_t a_k, int64_t M, const T* b, int64_t ldb, int64_t N,
                 int64_t K, T* c, int64_t ldc) {
  constexpr int L = kLanes<T>;
  constexpr int64_t W = kRegisters >= 32 ? 4 : 2;
  for (int64_t c0 = 0; c0 < N; c0 += W * L) {
    const int64_t np = std::min<int64_t>(W, (N - c0) / L);
    const T* bc = b + c0;
    T* cc = c + c0;
    switch (np) {
      case 1: rank_update_rows<T, 1, tile_rows(1)>(a, a_k, 0, M, bc, ldb, K, cc, ldc); break;
      case 2: rank_update_rows<T, 2, tile_rows(2)>(a, a_k, 0, M, bc, ldb, K, cc, ldc); break;
      case 3: rank_update_rows<T, 3, tile_rows(3)>(a, a_k, 0, M, bc, ldb, K, cc, ldc); break;
      default: rank_update_rows<T, 4, tile_rows(4)>(a, a_k, 0, M, bc, ldb, K, cc, ldc); break;
    }
  }
}

}  // namespace ember::rnn_detail
