#include "ember/rnn.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/eigen_maps.h"
#include "ember/parallel.h"

namespace ember {

namespace {

template <class T>
T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// Step k of the processing order is time t; its predecessor (k - 1) is time prev(t).
struct Order {
  int64_t steps;
  bool reverse;
  int64_t time(int64_t k) const { return reverse ? steps - 1 - k : k; }
};

// Column sums of a (rows, cols) row-major matrix, each column summed in row order by one thread.
template <class T>
void column_sums(const T* m, int64_t rows, int64_t cols, T* out) {
  parallel_for(cols, rows, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) {
      T acc = 0;
      for (int64_t r = 0; r < rows; ++r) acc += m[r * cols + j];
      out[j] = acc;
    }
  });
}

}  // namespace

template <class T>
void rnn_forward(const RnnShape& s, const T* input, const T* h0, const T* c0, const T* w_ih,
                 const T* w_hh, const T* b_ih, const T* b_hh, const uint8_t* mask, T* output,
                 T* c_n, T* reserve) {
  const int64_t B = s.batch, H = s.hidden, G = gate_count(s.mode), GH = G * H;
  const bool gru = s.mode == RnnMode::gru, lstm = s.mode == RnnMode::lstm;
  // All input projections at once: xp (steps * batch, GH) = input @ w_ih^T + biases. GRU keeps
  // b_hh on the recurrent side, where the reset gate multiplies it.
  std::vector<T> xp(s.steps * B * GH);
  MatrixMap<T> xpm(xp.data(), s.steps * B, GH);
  xpm.noalias() = ConstMatrixMap<T>(input, s.steps * B, s.input_size) *
                  ConstMatrixMap<T>(w_ih, GH, s.input_size).transpose();
  if (b_ih) xpm.rowwise() += ConstVectorMap<T>(b_ih, GH).transpose();
  if (b_hh && !gru) xpm.rowwise() += ConstVectorMap<T>(b_hh, GH).transpose();

  T* gates = reserve;                                   // (steps, B, G*H): LSTM, GRU
  T* extra = reserve ? reserve + s.steps * B * GH : nullptr;  // (steps, B, H): c_t or W_hn h + b_hn
  std::vector<T> hp(B * GH);
  const Order order{s.steps, s.reverse};
  const T* h_prev = h0;
  const T* c_prev = c0;
  for (int64_t k = 0; k < s.steps; ++k) {
    const int64_t t = order.time(k);
    MatrixMap<T> hpm(hp.data(), B, GH);
    hpm.noalias() = ConstMatrixMap<T>(h_prev, B, H) * ConstMatrixMap<T>(w_hh, GH, H).transpose();
    if (b_hh && gru) hpm.rowwise() += ConstVectorMap<T>(b_hh, GH).transpose();
    T* h = output + t * B * H;
    T* c = lstm ? extra + t * B * H : nullptr;
    parallel_for(B, 16 * GH, [&](int64_t rb, int64_t re) {
      for (int64_t b = rb; b < re; ++b) {
        const T* a = xp.data() + (t * B + b) * GH;  // input part of the pre-activations
        const T* r = hp.data() + b * GH;            // recurrent part
        const T* hb = h_prev + b * H;
        T* hout = h + b * H;
        if (mask && !mask[t * B + b]) {  // skipped step: carry the state over
          std::copy(hb, hb + H, hout);
          if (lstm) std::copy(c_prev + b * H, c_prev + (b + 1) * H, c + b * H);
          // The reserve is returned to Python: never leave uninitialised memory in it.
          if (gates) std::fill(gates + (t * B + b) * GH, gates + (t * B + b + 1) * GH, T(0));
          if (gru) std::fill(extra + (t * B + b) * H, extra + (t * B + b + 1) * H, T(0));
          continue;
        }
        T* gate = gates ? gates + (t * B + b) * GH : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          if (s.mode == RnnMode::rnn_tanh) {
            hout[j] = std::tanh(a[j] + r[j]);
          } else if (s.mode == RnnMode::rnn_relu) {
            hout[j] = std::max(a[j] + r[j], T(0));
          } else if (lstm) {
            const T ig = sigmoid(a[j] + r[j]), fg = sigmoid(a[H + j] + r[H + j]);
            const T gg = std::tanh(a[2 * H + j] + r[2 * H + j]), og = sigmoid(a[3 * H + j] + r[3 * H + j]);
            const T cell = fg * c_prev[b * H + j] + ig * gg;
            gate[j] = ig, gate[H + j] = fg, gate[2 * H + j] = gg, gate[3 * H + j] = og;
            c[b * H + j] = cell;
            hout[j] = og * std::tanh(cell);
          } else {  // gru
            const T rg = sigmoid(a[j] + r[j]), zg = sigmoid(a[H + j] + r[H + j]);
            const T hn = r[2 * H + j];  // W_hn h + b_hn
            const T ng = std::tanh(a[2 * H + j] + rg * hn);
            gate[j] = rg, gate[H + j] = zg, gate[2 * H + j] = ng;
            extra[(t * B + b) * H + j] = hn;
            hout[j] = (T(1) - zg) * ng + zg * hb[j];
          }
        }
      }
    });
    h_prev = h;
    if (lstm) c_prev = c;
  }
  if (lstm && c_n) std::copy(c_prev, c_prev + B * H, c_n);
}

template <class T>
void rnn_backward(const RnnShape& s, const T* grad_output, const T* grad_c_n, const T* input,
                  const T* h0, const T* c0, const T* w_ih, const T* w_hh, const uint8_t* mask,
                  const T* output, const T* reserve, T* grad_input, T* grad_h0, T* grad_c0,
                  T* grad_w_ih, T* grad_w_hh, T* grad_b_ih, T* grad_b_hh) {
  const int64_t B = s.batch, H = s.hidden, G = gate_count(s.mode), GH = G * H;
  const int64_t rows = s.steps * B;
  const bool gru = s.mode == RnnMode::gru, lstm = s.mode == RnnMode::lstm;
  const T* gates = reserve;
  const T* extra = reserve ? reserve + rows * GH : nullptr;
  const Order order{s.steps, s.reverse};

  // Gradients of the pre-activations, input side (da) and recurrent side (dr; differs from da
  // only in GRU's n gate, where the reset gate scales the hidden product).
  std::vector<T> da(rows * GH), dr(gru ? rows * GH : 0);
  T* drp = gru ? dr.data() : da.data();
  // h_{t-1} for every step, to form the recurrent weight gradient with one product.
  std::vector<T> h_prev_all(rows * H);
  std::vector<T> dh(B * H, T(0)), dc(B * H, T(0)), dh_next(B * H);
  if (lstm && grad_c_n) std::copy(grad_c_n, grad_c_n + B * H, dc.begin());

  for (int64_t k = s.steps - 1; k >= 0; --k) {
    const int64_t t = order.time(k);
    const T* h_prev = k == 0 ? h0 : output + order.time(k - 1) * B * H;
    const T* c_prev = lstm ? (k == 0 ? c0 : extra + order.time(k - 1) * B * H) : nullptr;
    std::copy(h_prev, h_prev + B * H, h_prev_all.begin() + t * B * H);
    parallel_for(B, 16 * GH, [&](int64_t rb, int64_t re) {
      for (int64_t b = rb; b < re; ++b) {
        T* dab = da.data() + (t * B + b) * GH;
        T* drb = drp + (t * B + b) * GH;
        T* dhb = dh.data() + b * H;
        const T* go = grad_output + (t * B + b) * H;
        for (int64_t j = 0; j < H; ++j) dhb[j] += go[j];
        if (mask && !mask[t * B + b]) {  // skipped step: gradients pass through unchanged
          std::fill(dab, dab + GH, T(0));
          if (gru) std::fill(drb, drb + GH, T(0));
          continue;  // dh and dc stay as they are for this sample
        }
        const T* h = output + (t * B + b) * H;
        const T* gate = gates ? gates + (t * B + b) * GH : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          if (s.mode == RnnMode::rnn_tanh) {
            dab[j] = dhb[j] * (T(1) - h[j] * h[j]);
          } else if (s.mode == RnnMode::rnn_relu) {
            dab[j] = h[j] > 0 ? dhb[j] : T(0);
          } else if (lstm) {
            const T ig = gate[j], fg = gate[H + j], gg = gate[2 * H + j], og = gate[3 * H + j];
            const T tc = std::tanh(extra[(t * B + b) * H + j]);
            const T dcell = dc[b * H + j] + dhb[j] * og * (T(1) - tc * tc);
            dab[j] = dcell * gg * ig * (T(1) - ig);
            dab[H + j] = dcell * c_prev[b * H + j] * fg * (T(1) - fg);
            dab[2 * H + j] = dcell * ig * (T(1) - gg * gg);
            dab[3 * H + j] = dhb[j] * tc * og * (T(1) - og);
            dc[b * H + j] = dcell * fg;
          } else {  // gru
            const T rg = gate[j], zg = gate[H + j], ng = gate[2 * H + j];
            const T hn = extra[(t * B + b) * H + j];
            const T dn = dhb[j] * (T(1) - zg) * (T(1) - ng * ng);
            dab[j] = dn * hn * rg * (T(1) - rg);
            dab[H + j] = dhb[j] * (h_prev[b * H + j] - ng) * zg * (T(1) - zg);
            dab[2 * H + j] = dn;
            drb[j] = dab[j], drb[H + j] = dab[H + j], drb[2 * H + j] = dn * rg;
          }
        }
      }
    });
    // dh for the previous step: through the recurrent product, plus the direct paths (GRU's
    // z * h_prev, and skipped steps) that bypass it.
    MatrixMap<T>(dh_next.data(), B, H).noalias() =
        ConstMatrixMap<T>(drp + t * B * GH, B, GH) * ConstMatrixMap<T>(w_hh, GH, H);
    parallel_for(B, 4 * H, [&](int64_t rb, int64_t re) {
      for (int64_t b = rb; b < re; ++b) {
        T* dhb = dh.data() + b * H;
        const T* next = dh_next.data() + b * H;
        if (mask && !mask[t * B + b]) {
          for (int64_t j = 0; j < H; ++j) dhb[j] += next[j];  // next is 0 here: dr row is 0
        } else if (gru) {
          const T* zg = gates + (t * B + b) * GH + H;
          for (int64_t j = 0; j < H; ++j) dhb[j] = next[j] + dhb[j] * zg[j];
        } else {
          std::copy(next, next + H, dhb);
        }
      }
    });
  }
  if (grad_h0) std::copy(dh.begin(), dh.end(), grad_h0);
  if (grad_c0 && lstm) std::copy(dc.begin(), dc.end(), grad_c0);

  ConstMatrixMap<T> dam(da.data(), rows, GH), drm(drp, rows, GH);
  if (grad_input)
    MatrixMap<T>(grad_input, rows, s.input_size).noalias() =
        dam * ConstMatrixMap<T>(w_ih, GH, s.input_size);
  if (grad_w_ih)
    MatrixMap<T>(grad_w_ih, GH, s.input_size).noalias() =
        dam.transpose() * ConstMatrixMap<T>(input, rows, s.input_size);
  if (grad_w_hh)
    MatrixMap<T>(grad_w_hh, GH, H).noalias() =
        drm.transpose() * ConstMatrixMap<T>(h_prev_all.data(), rows, H);
  if (grad_b_ih) column_sums(da.data(), rows, GH, grad_b_ih);
  if (grad_b_hh) column_sums(drp, rows, GH, grad_b_hh);
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
