#include "ember/rnn.h"

#include <Eigen/Core>
#include <algorithm>
#include <vector>

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
  // The reserve is time-major whatever the layout: each step's rows are one block in memory.
  int64_t saved_row(int64_t t, int64_t b) const { return t * batch + b; }
  int64_t sample_stride() const { return batch_first ? steps : 1; }  // rows from b to b + 1
};

// Unit packets per panel: enough accumulators per tile row without padding a small H far out.
int64_t unit_packets(int64_t hidden, int lanes) {
  return hidden <= lanes ? 1 : hidden <= 2 * lanes ? 2 : 4;
}

// Calls f(std::integral_constant<int, NP>, std::integral_constant<int, NACC>) for the tile
// shapes in use (rnn_tile.h): NP packets per panel row, 1, 2 or 4 of them with NACC = NP
// accumulators per tile row, or GRU's 3 with a fourth accumulator for W_hn h (gru = true).
template <class F>
void with_tile_shape(int64_t np, bool gru, const F& f) {
  using std::integral_constant;
  if (gru) return f(integral_constant<int, 3>{}, integral_constant<int, 4>{});
  switch (np) {
    case 1: return f(integral_constant<int, 1>{}, integral_constant<int, 1>{});
    case 2: return f(integral_constant<int, 2>{}, integral_constant<int, 2>{});
    case 3: return f(integral_constant<int, 3>{}, integral_constant<int, 3>{});
    default: return f(integral_constant<int, 4>{}, integral_constant<int, 4>{});
  }
}

// x_side (rows, G*H) = input (rows, I) @ w_ih^T + biases, with wx = w_ih^T packed like the
// recurrent weights (gates of U * L units per panel); rows split between threads when
// `parallel`, each computed alike whatever the split.
template <class T>
void project_inputs(const T* input, int64_t rows, int64_t I, const PackedPanels<T>& wx,
                    int64_t U, const T* biases, int64_t H, T* x_side, bool parallel) {
  constexpr int L = kLanes<T>;
  const int64_t G = wx.width / (U * L), GH = G * H;
  const Rows<T> none{nullptr, 0};
  parallel_for(rows, parallel ? 2 * GH * I : 0, [&](int64_t r0, int64_t r1) {
    with_tile_shape(G * U, false, [&](auto np, auto) {
      constexpr int NP = decltype(np)::value;
      panel_products<T, NP, NP>(none, Rows<T>{input + r0 * I, I}, r1 - r0, wx,
                                [&](int64_t first, int m, int64_t p, const Packet<T>* acc) {
        for (int i = 0; i < m; ++i) {
          T* x = x_side + (r0 + first + i) * GH;
          for (int64_t q = 0; q < G; ++q)
            for (int64_t j = 0; j < U && (p * U + j) * L < H; ++j) {
              const int64_t c = q * H + (p * U + j) * L;
              const int n = static_cast<int>(std::min<int64_t>(L, H - (p * U + j) * L));
              store(x + c, Eigen::internal::padd(acc[i * NP + q * U + j], load(biases + c, n)), n);
            }
        }
      });
    });
  });
}

// From this batch size on, each step's tile product also computes the step's input projection
// (against w_ih^T stacked over w_hh^T): no (steps x batch x G*H) buffer goes through memory.
// Smaller batches project all steps at once in one large product instead, since their steps
// cost mostly the streaming of the packed weights from L2, which fusion would double. The choice
// depends on the batch alone, never on the thread count (the forward stays bitwise invariant).
constexpr int64_t kFuseMinBatch = 8;

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

  // Panels of w_ih^T (fused) over w_hh^T holding every gate of U * L hidden units, so that a
  // tile's accumulators are whole cells. Unfused, the input side of the pre-activations is
  // computed up front in the same panels' shape (x_side, in the input's row order); fused, the
  // cells only need the input-side biases. Inference keeps two cell-state buffers.
  const int64_t U = G == 1 ? unit_packets(H, L) : 1, NP = G * U;
  const int64_t packed_h = PackedPanels<T>::size((fused ? I : 0) + H, G, H, U * L);
  const int64_t packed_x = fused ? 0 : PackedPanels<T>::size(I, G, H, U * L);
  ScratchArena scratch(ScratchArena::bytes<T>((fused ? 1 : rows) * GH) +
                       ScratchArena::bytes<T>(packed_h) + ScratchArena::bytes<T>(packed_x) +
                       (lstm && !reserve ? 2 * ScratchArena::bytes<T>(B * H) : 0));
  T* x_side = scratch.take<T>((fused ? 1 : rows) * GH);
  const Source<T> x_weights{w_ih, 1, I, I}, none{nullptr, 0, 0, 0};
  const PackedPanels<T> w = pack_panels<T>(scratch.take<T>(packed_h), fused ? x_weights : none,
                                           Source<T>{w_hh, 1, H, H}, G, H, H, U * L);
  T* extra = reserve ? reserve + rows * GH : nullptr;  // c_t (LSTM) or W_hn h + b_hn (GRU)
  T* cells[2] = {nullptr, nullptr};
  if (lstm && !reserve) cells[0] = scratch.take<T>(B * H), cells[1] = scratch.take<T>(B * H);

  // The input side's biases: b_ih, plus b_hh except for GRU, which keeps b_hh on the recurrent
  // side where the reset gate multiplies it.
  std::vector<T> biases(GH);
  for (int64_t j = 0; j < GH; ++j)
    biases[j] = (b_ih ? b_ih[j] : T(0)) + (b_hh && !gru ? b_hh[j] : T(0));
  if (fused) {
    std::copy(biases.begin(), biases.end(), x_side);
  } else {
    const PackedPanels<T> wx =
        pack_panels<T>(scratch.take<T>(packed_x), none, x_weights, G, H, H, U * L);
    // In parallel only when the steps will be too: a batch-1 call then wakes no thread pool
    // (on a busy machine a woken pool cost more than this product saves).
    const bool parallel = parallel_chunks(B, 2 * s.steps * GH * (H + I)) > 1;
    project_inputs(input, rows, I, wx, U, biases.data(), H, x_side, parallel);
  }

  const CellForward<T> cell{s.mode, H, U, b_hh && gru ? b_hh : nullptr};
  const int64_t nacc = NP + (gru ? 1 : 0);
  // Samples [b0, b1) through every step.
  auto run = [&](int64_t b0, int64_t b1) {
    with_tile_shape(NP, gru, [&](auto np, auto nacc_c) {
      constexpr int NACC = decltype(nacc_c)::value;
      for (int64_t k = 0; k < s.steps; ++k) {
        const int64_t t = seq.time(k), tp = k ? seq.time(k - 1) : 0;
        auto h_prev = [&](int64_t b) { return k ? output + seq.row(tp, b) * H : h0 + b * H; };
        auto c_prev = [&](int64_t b) -> const T* {
          if (!lstm) return nullptr;
          if (k == 0) return c0 + b * H;
          return reserve ? extra + seq.saved_row(tp, b) * H : cells[(k - 1) & 1] + b * H;
        };
        const Rows<T> xs{input + seq.row(t, b0) * I, seq.sample_stride() * I};
        const Rows<T> hs{h_prev(b0), (k ? seq.sample_stride() : 1) * H};
        panel_products<T, decltype(np)::value, NACC>(
            xs, hs, b1 - b0, w, [&](int64_t r0, int m, int64_t p, const Packet<T>* acc) {
              for (int i = 0; i < m; ++i) {
                const int64_t b = b0 + r0 + i, row = seq.row(t, b), saved = seq.saved_row(t, b);
                CellRow<T> r;
                r.x = fused ? x_side : x_side + row * GH;
                r.gates = reserve ? reserve + saved * GH : nullptr;
                r.h_prev = h_prev(b);
                r.h = output + row * H;
                r.c_prev = c_prev(b);
                r.c = !lstm ? nullptr : reserve ? extra + saved * H : cells[k & 1] + b * H;
                r.hn = gru && reserve ? extra + saved * H : nullptr;
                cell.run(acc + i * NACC, p, mask && !mask[t * B + b], r);
              }
            });
      }
    });
  };
  // Samples are independent: each thread runs its block of samples through every step, with no
  // barrier. (Splitting the hidden units of a batch too small to split, with a barrier per
  // step, measured worse: on a shared 2-core machine each barrier waited out a scheduler time
  // slice, 656 ms for a batch-1 forward that takes 0.8 ms on one thread.)
  parallel_for(B, 2 * s.steps * GH * (H + I), run);
  if (lstm && c_n)
    for (int64_t b = 0; b < B; ++b) {
      const int64_t last = s.steps - 1;
      const T* c = reserve ? extra + seq.saved_row(seq.time(last), b) * H : cells[last & 1] + b * H;
      std::copy(c, c + H, c_n + b * H);
    }
}

template <class T>
void rnn_backward(const RnnShape& s, const T* grad_output, const T* grad_c_n, const T* input,
                  const T* h0, const T* c0, const T* w_ih, const T* w_hh, const uint8_t* mask,
                  const T* output, const T* reserve, T* grad_input, T* grad_h0, T* grad_c0,
                  T* grad_w_ih, T* grad_w_hh, T* grad_b_ih, T* grad_b_hh) {
  const int64_t B = s.batch, H = s.hidden, G = gate_count(s.mode), GH = G * H;
  const int64_t I = s.input_size, rows = s.steps * B;
  constexpr int L = kLanes<T>;
  const bool gru = s.mode == RnnMode::gru, lstm = s.mode == RnnMode::lstm;
  const bool weights = grad_w_ih || grad_w_hh, biases = grad_b_ih || grad_b_hh;
  const Sequence seq{s.steps, B, s.batch_first, s.reverse};
  const T* gates = reserve;
  const T* extra = reserve ? reserve + rows * GH : nullptr;

  // One sweep over the steps, last to first, computes every gradient; each thread takes a
  // block of samples. At step k it has the pre-activation gradients da_k (input side) and dr_k
  // (recurrent side; differs from da only in GRU's n gate, which the reset gate scales) of its
  // samples, and forms while they are in cache: grad_input's rows of step k (da_k w_ih), its
  // share of the weight gradients (da_k^T x_k, dr_k^T h_{k-1}; the biases: their column sums)
  // and dh_{k-1} = dr_k w_hh, whose tiles go on to step k - 1's cell gradients. The weight and
  // bias gradients are summed per thread, then over threads in order.
  const int64_t cost = 6 * s.steps * GH * (H + I);
  const int chunks = parallel_chunks(B, cost);
  // The weight gradients' sums: (G*H) x (Ip + Hp), columns [0, Ip) for w_ih and [Ip, Ip + Hp)
  // for w_hh, each padded to whole packets; at each step the x and h_prev rows are copied side
  // by side into xh, so that (but for GRU, whose dr differs) one pass over da_k updates both.
  const int64_t Ip = (I + L - 1) / L * L, Hp = (H + L - 1) / L * L, XH = Ip + Hp;
  const int64_t partial_w = GH * XH;
  const int64_t U = unit_packets(H, L), Ux = unit_packets(I, L);
  const int64_t packed_h = PackedPanels<T>::size(GH, 1, H, U * L);
  const int64_t packed_x = grad_input ? PackedPanels<T>::size(GH, 1, I, Ux * L) : 0;
  auto bytes = [](int64_t n) { return ScratchArena::bytes<T>(n); };
  ScratchArena scratch(bytes(B * GH) * (gru ? 4 : 2) + 2 * bytes(B * H) + bytes(packed_h) +
                       bytes(packed_x) +
                       (weights ? bytes(B * XH) + bytes(chunks * partial_w) : 0) +
                       (biases ? bytes(chunks * 2 * GH) : 0));
  T* da[2] = {scratch.take<T>(B * GH), scratch.take<T>(B * GH)};
  T* dr[2] = {da[0], da[1]};
  if (gru) dr[0] = scratch.take<T>(B * GH), dr[1] = scratch.take<T>(B * GH);
  T* dh = scratch.take<T>(B * H);
  T* dc = scratch.take<T>(B * H);
  T* xh = weights ? scratch.take<T>(B * XH) : nullptr;
  T* w_sums = weights ? scratch.take<T>(chunks * partial_w) : nullptr;
  T* b_sums = biases ? scratch.take<T>(chunks * 2 * GH) : nullptr;
  if (w_sums) std::fill(w_sums, w_sums + chunks * partial_w, T(0));
  if (b_sums) std::fill(b_sums, b_sums + chunks * 2 * GH, T(0));
  if (xh) std::fill(xh, xh + B * XH, T(0));  // the padding columns stay zero

  // w_hh's and w_ih's columns in panels of U * L units, for dh (K = G*H) and grad_input.
  const Source<T> none{nullptr, 0, 0, 0};
  const PackedPanels<T> w_h =
      pack_panels<T>(scratch.take<T>(packed_h), none, Source<T>{w_hh, H, 1, GH}, 1, H, 0, U * L);
  const PackedPanels<T> w_x =
      grad_input ? pack_panels<T>(scratch.take<T>(packed_x), none, Source<T>{w_ih, I, 1, GH}, 1,
                                  I, 0, Ux * L)
                 : PackedPanels<T>{};

  const CellBackward<T> cell{s.mode, H};
  parallel_chunks_for(B, cost, [&](int chunk, int64_t b0, int64_t b1) {
    const int64_t nb = b1 - b0;
    T* gw = weights ? w_sums + chunk * partial_w : nullptr;
    T* gb = biases ? b_sums + chunk * 2 * GH : nullptr;
    // The pointers of sample b at processing step k, its gradients in buffer `slot`.
    auto row_at = [&](int64_t k, int64_t b, int slot) {
      const int64_t t = seq.time(k), row = seq.row(t, b), saved = seq.saved_row(t, b);
      const int64_t prev = k ? seq.row(seq.time(k - 1), b) : -1;
      const int64_t saved_prev = k ? seq.saved_row(seq.time(k - 1), b) : -1;
      CellGradRow<T> r;
      r.gates = gates ? gates + saved * GH : nullptr;
      r.h = output + row * H;
      r.h_prev = prev >= 0 ? output + prev * H : h0 + b * H;
      r.c = lstm ? extra + saved * H : nullptr;
      r.c_prev = !lstm ? nullptr : saved_prev >= 0 ? extra + saved_prev * H : c0 + b * H;
      r.hn = gru ? extra + saved * H : nullptr;
      r.da = da[slot] + b * GH;
      r.dr = dr[slot] + b * GH;
      r.dh = dh + b * H;
      r.dc = dc + b * H;
      r.db_ih = gb;
      r.db_hh = gb ? gb + GH : nullptr;
      r.skip = mask && !mask[t * B + b];
      return r;
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
      const CellGradRow<T> r = row_at(last, b, last & 1);
      for (int64_t u = 0; u < H; u += L)
        cell.step(u, static_cast<int>(std::min<int64_t>(L, H - u)), r);
    }
    for (int64_t k = last; k >= 0; --k) {
      const int64_t t = seq.time(k);
      const int slot = k & 1;
      const Rows<T> da_k{da[slot] + b0 * GH, GH}, dr_k{dr[slot] + b0 * GH, GH};
      if (grad_input)
        with_tile_shape(Ux, false, [&](auto np, auto) {
          constexpr int NP = decltype(np)::value;
          panel_products<T, NP, NP>(da_k, da_k, nb, w_x,
                                    [&](int64_t r0, int m, int64_t p, const Packet<T>* acc) {
            for (int i = 0; i < m; ++i) {
              T* gi = grad_input + seq.row(t, b0 + r0 + i) * I;
              for (int64_t j = 0; j < Ux && (p * Ux + j) * L < I; ++j) {
                const int64_t u = (p * Ux + j) * L;
                store(gi + u, acc[i * NP + j], static_cast<int>(std::min<int64_t>(L, I - u)));
              }
            }
          });
        });
      if (weights) {
        T* rows_xh = xh + b0 * XH;
        for (int64_t b = b0; b < b1; ++b) {
          const T* x = input + seq.row(t, b) * I;
          const T* h = k ? output + seq.row(seq.time(k - 1), b) * H : h0 + b * H;
          std::copy(x, x + I, xh + b * XH);
          std::copy(h, h + H, xh + b * XH + Ip);
        }
        if (gru) {
          rank_update(da_k.a, GH, GH, rows_xh, XH, Ip, nb, gw, XH);
          rank_update(dr_k.a, GH, GH, rows_xh + Ip, XH, Hp, nb, gw + Ip, XH);
        } else {
          rank_update(da_k.a, GH, GH, rows_xh, XH, XH, nb, gw, XH);
        }
      }
      // dh_{k-1} = dr_k w_hh (+ the paths around the product) + grad_output_{k-1}, fused with
      // step k - 1's cell gradients; after step 0 it is the gradient of h0.
      with_tile_shape(U, false, [&](auto np, auto) {
        constexpr int NP = decltype(np)::value;
        panel_products<T, NP, NP>(dr_k, dr_k, nb, w_h,
                                  [&](int64_t r0, int m, int64_t p, const Packet<T>* acc) {
          for (int i = 0; i < m; ++i) {
            const int64_t b = b0 + r0 + i;
            const CellGradRow<T> next = row_at(k, b, slot);
            for (int64_t j = 0; j < U && (p * U + j) * L < H; ++j) {
              const int64_t u = (p * U + j) * L;
              const int n = static_cast<int>(std::min<int64_t>(L, H - u));
              const Packet<T> dh_prev = cell.through_step(acc[i * NP + j], u, n, next);
              if (k == 0) {
                if (grad_h0) store(grad_h0 + b * H + u, dh_prev, n);
                continue;
              }
              const CellGradRow<T> r = row_at(k - 1, b, slot ^ 1);
              const T* g = grad_output + seq.row(seq.time(k - 1), b) * H + u;
              store(r.dh + u, Eigen::internal::padd(dh_prev, load(g, n)), n);
              cell.step(u, n, r);
            }
          }
        });
      });
    }
  });
  if (grad_c0 && lstm) std::copy(dc, dc + B * H, grad_c0);

  // The threads' sums, added in thread order.
  auto reduce = [&](const T* sums, int64_t stride, int64_t n_rows, int64_t width,
                    int64_t padded, T* out) {
    for (int64_t i = 0; i < n_rows; ++i)
      for (int64_t j = 0; j < width; ++j) {
        T v = sums[i * padded + j];
        for (int c = 1; c < chunks; ++c) v += sums[c * stride + i * padded + j];
        out[i * width + j] = v;
      }
  };
  if (grad_w_ih) reduce(w_sums, partial_w, GH, I, XH, grad_w_ih);
  if (grad_w_hh) reduce(w_sums + Ip, partial_w, GH, H, XH, grad_w_hh);
  if (grad_b_ih) reduce(b_sums, 2 * GH, 1, GH, GH, grad_b_ih);
  if (grad_b_hh) reduce(b_sums + (gru ? GH : 0), 2 * GH, 1, GH, GH, grad_b_hh);
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
