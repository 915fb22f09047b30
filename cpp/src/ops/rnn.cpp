#include "ember/rnn.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "ember/eigen_maps.h"
#include "ember/parallel.h"
#include "ember/scratch.h"
#include "rnn_cells.h"
#include "rnn_tile.h"

namespace ember {

namespace {

using namespace rnn_detail;

// Rows of a (steps x batch) sequence in memory, and the processing order of its steps: step k of
// the processing order is time t(k).
struct Sequence {
  int64_t steps, batch;
  bool batch_first, reverse;
  int64_t time(int64_t k) const { return reverse ? steps - 1 - k : k; }
  int64_t row(int64_t t, int64_t b) const { return batch_first ? b * steps + t : t * batch + b; }
  int64_t sample_stride() const { return batch_first ? steps : 1; }  // rows from b to b + 1
};

// Unit packets per panel: enough accumulators per tile row without padding a small H far out.
int64_t unit_packets(int64_t hidden, int lanes) {
  return hidden <= lanes ? 1 : hidden <= 2 * lanes ? 2 : 4;
}

// Calls f(std::integral_constant<int, NP>, std::integral_constant<int, NACC>) for the tile
// shapes in use: NP packets per panel row, NACC accumulators per tile row (rnn_tile.h).
template <class F>
void with_tile_shape(int64_t np, int64_t nacc, const F& f) {
  using std::integral_constant;
  if (np == 3) return f(integral_constant<int, 3>{}, integral_constant<int, 4>{});  // GRU
  switch (np) {
    case 1: return f(integral_constant<int, 1>{}, integral_constant<int, 1>{});
    case 2: return f(integral_constant<int, 2>{}, integral_constant<int, 2>{});
    default: return f(integral_constant<int, 4>{}, integral_constant<int, 4>{});
  }
  (void)nacc;
}

// From this batch size on, each step's tile product also computes the step's input projection
// (against w_ih^T stacked over w_hh^T): no (steps x batch x G*H) buffer goes through memory.
// Smaller batches project all steps at once in one large product instead, since their steps
// cost mostly the streaming of the packed weights from L2, which fusion would double. The choice
// depends on the batch alone, never on the thread count (the forward stays bitwise invariant).
constexpr int64_t kFuseMinBatch = 8;

// Column sums of a (rows, cols) row-major matrix; each column is summed in row order, so the
// result does not depend on the thread count.
template <class T>
void column_sums(const T* m, int64_t rows, int64_t cols, T* out) {
  parallel_for(cols, rows, [&](int64_t b, int64_t e) {
    std::fill(out + b, out + e, T(0));
    for (int64_t r = 0; r < rows; ++r) {
      const T* row = m + r * cols;
      for (int64_t j = b; j < e; ++j) out[j] += row[j];
    }
  });
}

}  // namespace

template <class T>
void rnn_forward(const RnnShape& s, const T* input, const T* h0, const T* c0, const T* w_ih,
                 const T* w_hh, const T* b_ih, const T* b_hh, const uint8_t* mask, T* output,
                 T* c_n, T* reserve) {
  const int64_t B = s.batch, H = s.hidden, G = gate_count(s.mode), GH = G * H;
  const int64_t I = s.input_size, rows = s.steps * B;
  constexpr int L = kLanes<T>;
  const bool gru = s.mode == RnnMode::gru, lstm = s.mode == RnnMode::lstm;
  const bool fused = B >= kFuseMinBatch;
  const Sequence seq{s.steps, B, s.batch_first, s.reverse};

  // Unfused, the input side of the pre-activations is computed up front, into the reserve
  // (training; the gates are then activated in place) or scratch; fused, the cells only need
  // the input-side biases. Inference keeps two cell-state buffers.
  const size_t cell_bytes = ScratchArena::round_up(B * H * sizeof(T));
  ScratchArena scratch(ScratchArena::round_up((fused || reserve ? 1 : rows) * GH * sizeof(T)) +
                       (lstm && !reserve ? 2 * cell_bytes : 0));
  T* x_side = fused || !reserve ? scratch.take<T>((fused ? 1 : rows) * GH) : reserve;
  T* extra = reserve ? reserve + rows * GH : nullptr;  // c_t (LSTM) or W_hn h + b_hn (GRU)
  T* cells[2] = {nullptr, nullptr};
  if (lstm && !reserve) cells[0] = scratch.take<T>(B * H), cells[1] = scratch.take<T>(B * H);

  // The input side's biases: b_ih, plus b_hh except for GRU, which keeps b_hh on the recurrent
  // side where the reset gate multiplies it.
  const bool add_b_hh = b_hh && !gru;
  if (fused) {
    for (int64_t j = 0; j < GH; ++j)
      x_side[j] = (b_ih ? b_ih[j] : T(0)) + (add_b_hh ? b_hh[j] : T(0));
  } else {
    MatrixMap<T> xm(x_side, rows, GH);
    xm.noalias() = ConstMatrixMap<T>(input, rows, I) * ConstMatrixMap<T>(w_ih, GH, I).transpose();
    if (b_ih) xm.rowwise() += ConstVectorMap<T>(b_ih, GH).transpose();
    if (add_b_hh) xm.rowwise() += ConstVectorMap<T>(b_hh, GH).transpose();
  }

  // w_ih^T (fused) over w_hh^T in panels holding every gate of U * L hidden units, so that a
  // tile's accumulators are whole cells.
  const int64_t U = G == 1 ? unit_packets(H, L) : 1, NP = G * U;
  PackedPanels<T> w;
  pack_panels<T>(w, Source<T>{w_ih, 1, I, fused ? I : 0}, Source<T>{w_hh, 1, H, H}, G, H, H,
                 U * L);

  const CellForward<T> cell{s.mode, H, U, b_hh && gru ? b_hh : nullptr};
  // Samples are independent: each thread runs its rows through every step, with no barrier.
  parallel_for(B, 2 * s.steps * GH * (H + I), [&](int64_t b0, int64_t b1) {
    with_tile_shape(NP, NP + (gru ? 1 : 0), [&](auto np, auto nacc) {
      constexpr int NACC = decltype(nacc)::value;
      for (int64_t k = 0; k < s.steps; ++k) {
        const int64_t t = seq.time(k), tp = k ? seq.time(k - 1) : 0;
        auto h_prev = [&](int64_t b) { return k ? output + seq.row(tp, b) * H : h0 + b * H; };
        auto c_prev = [&](int64_t b) -> const T* {
          if (!lstm) return nullptr;
          if (k == 0) return c0 + b * H;
          return reserve ? extra + seq.row(tp, b) * H : cells[(k - 1) & 1] + b * H;
        };
        const Rows<T> xs{input + seq.row(t, b0) * I, seq.sample_stride() * I};
        const Rows<T> hs{h_prev(b0), (k ? seq.sample_stride() : 1) * H};
        panel_products<T, decltype(np)::value, NACC>(
            xs, hs, b1 - b0, w, [&](int64_t r0, int m, int64_t p, const Packet<T>* acc) {
              for (int i = 0; i < m; ++i) {
                const int64_t b = b0 + r0 + i, row = seq.row(t, b);
                CellRow<T> r;
                r.x = fused ? x_side : x_side + row * GH;
                r.gates = reserve ? reserve + row * GH : nullptr;
                r.h_prev = h_prev(b);
                r.h = output + row * H;
                r.c_prev = c_prev(b);
                r.c = !lstm ? nullptr : reserve ? extra + row * H : cells[k & 1] + b * H;
                r.hn = gru && reserve ? extra + row * H : nullptr;
                cell.run(acc + i * NACC, p, mask && !mask[t * B + b], r);
              }
            });
      }
      if (lstm && c_n)
        for (int64_t b = b0; b < b1; ++b) {
          const int64_t last = s.steps - 1;
          const T* c = reserve ? extra + seq.row(seq.time(last), b) * H
                               : cells[last & 1] + b * H;
          std::copy(c, c + H, c_n + b * H);
        }
    });
  });
}

template <class T>
void rnn_backward(const RnnShape& s, const T* grad_output, const T* grad_c_n, const T* input,
                  const T* h0, const T* c0, const T* w_ih, const T* w_hh, const uint8_t* mask,
                  const T* output, const T* reserve, T* grad_input, T* grad_h0, T* grad_c0,
                  T* grad_w_ih, T* grad_w_hh, T* grad_b_ih, T* grad_b_hh) {
  const int64_t B = s.batch, H = s.hidden, G = gate_count(s.mode), GH = G * H;
  const int64_t rows = s.steps * B;
  constexpr int L = kLanes<T>;
  const bool gru = s.mode == RnnMode::gru, lstm = s.mode == RnnMode::lstm;
  const Sequence seq{s.steps, B, s.batch_first, s.reverse};
  const T* gates = reserve;
  const T* extra = reserve ? reserve + rows * GH : nullptr;

  // Gradients of the pre-activations, input side (da) and recurrent side (dr; differs from da
  // only in GRU's n gate, where the reset gate scales the hidden product), in the input's row
  // order; h_{t-1} of every row, for the recurrent weight gradient; the running dh and dc.
  const size_t block = ScratchArena::round_up(rows * GH * sizeof(T));
  ScratchArena scratch(block * (gru ? 2 : 1) + ScratchArena::round_up(rows * H * sizeof(T)) +
                       2 * ScratchArena::round_up(B * H * sizeof(T)));
  T* da = scratch.take<T>(rows * GH);
  T* dr = gru ? scratch.take<T>(rows * GH) : da;
  T* h_prev_all = scratch.take<T>(rows * H);
  T* dh = scratch.take<T>(B * H);
  T* dc = scratch.take<T>(B * H);

  // dh_{t-1} = dr_t @ w_hh: w_hh's columns in panels of U * L hidden units.
  const int64_t U = unit_packets(H, L);
  PackedPanels<T> w;
  pack_panels<T>(w, Source<T>{nullptr, 0, 0, 0}, Source<T>{w_hh, H, 1, GH}, 1, H, 0, U * L);

  const CellBackward<T> cell{s.mode, H};
  parallel_for(B, 4 * s.steps * GH * (H + s.input_size), [&](int64_t b0, int64_t b1) {
    // The pointers of row b at processing step k.
    auto row_at = [&](int64_t k, int64_t b) {
      const int64_t t = seq.time(k), row = seq.row(t, b);
      const int64_t prev = k ? seq.row(seq.time(k - 1), b) : -1;
      CellGradRow<T> r;
      r.gates = gates ? gates + row * GH : nullptr;
      r.h = output + row * H;
      r.h_prev = prev >= 0 ? output + prev * H : h0 + b * H;
      r.c = lstm ? extra + row * H : nullptr;
      r.c_prev = !lstm ? nullptr : prev >= 0 ? extra + prev * H : c0 + b * H;
      r.hn = gru ? extra + row * H : nullptr;
      r.da = da + row * GH;
      r.dr = dr + row * GH;
      r.dh = dh + b * H;
      r.dc = dc + b * H;
      r.skip = mask && !mask[t * B + b];
      return r;
    };
    auto save_h_prev = [&](int64_t k, int64_t b) {
      const T* h = row_at(k, b).h_prev;
      std::copy(h, h + H, h_prev_all + seq.row(seq.time(k), b) * H);
    };

    // The last step processed: dh is its grad_output, dc the gradient of c_n.
    const int64_t last = s.steps - 1;
    for (int64_t b = b0; b < b1; ++b) {
      const T* g = grad_output + seq.row(seq.time(last), b) * H;
      std::copy(g, g + H, dh + b * H);
      if (lstm) {
        if (grad_c_n)
          std::copy(grad_c_n + b * H, grad_c_n + (b + 1) * H, dc + b * H);
        else
          std::fill(dc + b * H, dc + (b + 1) * H, T(0));
      }
      save_h_prev(last, b);
      const CellGradRow<T> r = row_at(last, b);
      for (int64_t u = 0; u < H; u += L)
        cell.step(u, static_cast<int>(std::min<int64_t>(L, H - u)), r);
    }
    // Then each earlier step k: dh_k = dr_{k+1} @ w_hh (+ the paths around the product) +
    // grad_output_k, fused with step k's cell gradients; k = -1 leaves the gradient of h0.
    with_tile_shape(U, U, [&](auto np, auto) {
      for (int64_t k = last - 1; k >= -1; --k) {
        const int64_t tn = seq.time(k + 1);
        if (k >= 0)
          for (int64_t b = b0; b < b1; ++b) save_h_prev(k, b);
        const Rows<T> drs{dr + seq.row(tn, b0) * GH, seq.sample_stride() * GH};
        panel_products<T, decltype(np)::value, decltype(np)::value>(
              drs, drs, b1 - b0, w, [&](int64_t r0, int m, int64_t p, const Packet<T>* acc) {
                for (int i = 0; i < m; ++i) {
                  const int64_t b = b0 + r0 + i;
                  const CellGradRow<T> next = row_at(k + 1, b);
                  for (int64_t j = 0; j < U; ++j) {
                    const int64_t u = (p * U + j) * L;
                    if (u >= H) break;
                    const int n = static_cast<int>(std::min<int64_t>(L, H - u));
                    const Packet<T> dh_k = cell.through_step(acc[i * U + j], u, n, next);
                    if (k < 0) {
                      if (grad_h0) store(grad_h0 + b * H + u, dh_k, n);
                      continue;
                    }
                    const CellGradRow<T> r = row_at(k, b);
                    const T* g = grad_output + seq.row(seq.time(k), b) * H + u;
                    store(r.dh + u, Eigen::internal::padd(dh_k, load(g, n)), n);
                    cell.step(u, n, r);
                  }
                }
              });
      }
    });
  });
  if (grad_c0 && lstm) std::copy(dc, dc + B * H, grad_c0);

  ConstMatrixMap<T> dam(da, rows, GH), drm(dr, rows, GH);
  if (grad_input)
    MatrixMap<T>(grad_input, rows, s.input_size).noalias() =
        dam * ConstMatrixMap<T>(w_ih, GH, s.input_size);
  if (grad_w_ih)
    MatrixMap<T>(grad_w_ih, GH, s.input_size).noalias() =
        dam.transpose() * ConstMatrixMap<T>(input, rows, s.input_size);
  if (grad_w_hh)
    MatrixMap<T>(grad_w_hh, GH, H).noalias() =
        drm.transpose() * ConstMatrixMap<T>(h_prev_all, rows, H);
  if (grad_b_ih) column_sums(da, rows, GH, grad_b_ih);
  if (grad_b_hh) column_sums(dr, rows, GH, grad_b_hh);
}

#define EMBER_INSTANTIATE(T)                                                                 \
  template void rnn_forward<T>(const RnnShape&, const T*, const T*, const T*, const T*,      \
                               const T*, const T*, const T*, const uint8_t*, T*, T*, T*);    \
  template void rnn_backward<T>(const RnnShape&, const T*, const T*, const T*, const T*,     \
                                const T*, const T*, const T*, const uint8_t*, const T*,      \
                                const T*, T*, T*, T*, T*, T*, T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
