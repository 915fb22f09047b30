#include "ember/rnn.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/eigen_maps.h"
#include "ember/parallel.h"

namespace ember {

namespace {

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


template <class T>
using ArrayRM = Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Rows = Eigen::Map<ArrayRM<T>>;
template <class T>
using ConstRows = Eigen::Map<const ArrayRM<T>>;

// Rows [b0, b0 + n) of a step: views of (n, H) and (n, G*H) blocks of row-major buffers.
template <class T>
struct Step {
  int64_t b0, n, H, GH;
  Rows<T> h(T* p) const { return Rows<T>(p + b0 * H, n, H); }
  ConstRows<T> h(const T* p) const { return ConstRows<T>(p + b0 * H, n, H); }
  Rows<T> g(T* p) const { return Rows<T>(p + b0 * GH, n, GH); }
  ConstRows<T> g(const T* p) const { return ConstRows<T>(p + b0 * GH, n, GH); }
};

// One step's cell math for a block of rows, as Eigen array expressions so that logistic and
// tanh run on SIMD registers. xp: input part of the pre-activations (with the biases, except
// GRU's b_hh), hp: recurrent part (with GRU's b_hh).
template <class T>
void forward_rows(RnnMode mode, const Step<T>& st, const T* xp, const T* hp, const T* h_prev,
                  const T* c_prev, T* gates, T* extra, T* h) {
  const int64_t H = st.H;
  auto x = st.g(xp);
  auto r = st.g(hp);
  auto out = st.h(h);
  switch (mode) {
    case RnnMode::rnn_tanh: out = (x + r).tanh(); return;
    case RnnMode::rnn_relu: out = (x + r).max(T(0)); return;
    case RnnMode::lstm: {
      auto gt = st.g(gates);
      gt.leftCols(2 * H) = (x.leftCols(2 * H) + r.leftCols(2 * H)).logistic();  // i, f
      gt.middleCols(2 * H, H) = (x.middleCols(2 * H, H) + r.middleCols(2 * H, H)).tanh();
      gt.rightCols(H) = (x.rightCols(H) + r.rightCols(H)).logistic();            // o
      auto c = st.h(extra);
      c = gt.middleCols(H, H) * st.h(c_prev) + gt.leftCols(H) * gt.middleCols(2 * H, H);
      out = gt.rightCols(H) * c.tanh();
      return;
    }
    case RnnMode::gru: {
      auto gt = st.g(gates);
      gt.leftCols(2 * H) = (x.leftCols(2 * H) + r.leftCols(2 * H)).logistic();  // r, z
      auto hn = st.h(extra);
      hn = r.rightCols(H);  // W_hn h + b_hn, kept for backward
      gt.rightCols(H) = (x.rightCols(H) + gt.leftCols(H) * hn).tanh();        // n
      out = (T(1) - gt.middleCols(H, H)) * gt.rightCols(H) + gt.middleCols(H, H) * st.h(h_prev);
      return;
    }
  }
}

// The matching backward for a block of rows: adds grad_output to dh, writes the pre-activation
// gradients da (input side) and dr (GRU's recurrent side), and updates LSTM's dc in place.
template <class T>
void backward_rows(RnnMode mode, const Step<T>& st, const T* grad_output, const T* h,
                   const T* h_prev, const T* c_prev, const T* gates, const T* extra, T* dh_p,
                   T* dc_p, T* da_p, T* dr_p) {
  const int64_t H = st.H;
  auto dh = st.h(dh_p);
  dh += st.h(grad_output);
  auto da = st.g(da_p);
  switch (mode) {
    case RnnMode::rnn_tanh: da = dh * (T(1) - st.h(h).square()); return;
    case RnnMode::rnn_relu: da = (st.h(h) > T(0)).select(dh, T(0)); return;
    case RnnMode::lstm: {
      auto gt = st.g(gates);
      auto i = gt.leftCols(H), f = gt.middleCols(H, H), g = gt.middleCols(2 * H, H),
           o = gt.rightCols(H);
      const ArrayRM<T> tc = st.h(extra).tanh();
      auto dc = st.h(dc_p);
      const ArrayRM<T> dcell = dc + dh * o * (T(1) - tc.square());
      da.leftCols(H) = dcell * g * i * (T(1) - i);
      da.middleCols(H, H) = dcell * st.h(c_prev) * f * (T(1) - f);
      da.middleCols(2 * H, H) = dcell * i * (T(1) - g.square());
      da.rightCols(H) = dh * tc * o * (T(1) - o);
      dc = dcell * f;
      return;
    }
    case RnnMode::gru: {
      auto gt = st.g(gates);
      auto rg = gt.leftCols(H), z = gt.middleCols(H, H), ng = gt.rightCols(H);
      auto hn = st.h(extra);
      const ArrayRM<T> dn = dh * (T(1) - z) * (T(1) - ng.square());
      da.leftCols(H) = dn * hn * rg * (T(1) - rg);
      da.middleCols(H, H) = dh * (st.h(h_prev) - ng) * z * (T(1) - z);
      da.rightCols(H) = dn;
      auto dr = st.g(dr_p);
      dr.leftCols(2 * H) = da.leftCols(2 * H);
      dr.rightCols(H) = dn * rg;
      return;
    }
  }
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
    parallel_for(B, 16 * GH, [&](int64_t b0, int64_t b1) {
      const Step<T> st{b0, b1 - b0, H, GH};
      forward_rows(s.mode, st, xp.data() + t * B * GH, hp.data(), h_prev, c_prev,
                   gates ? gates + t * B * GH : nullptr, extra ? extra + t * B * H : nullptr, h);
      if (mask)  // skipped steps carry the state over; their saved rows are zeros
        for (int64_t b = b0; b < b1; ++b) {
          if (mask[t * B + b]) continue;
          std::copy(h_prev + b * H, h_prev + (b + 1) * H, h + b * H);
          if (lstm) std::copy(c_prev + b * H, c_prev + (b + 1) * H, c + b * H);
          if (gates) std::fill(gates + (t * B + b) * GH, gates + (t * B + b + 1) * GH, T(0));
          if (gru) std::fill(extra + (t * B + b) * H, extra + (t * B + b + 1) * H, T(0));
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
  std::vector<T> dh(B * H, T(0)), dc(B * H, T(0)), dh_next(B * H), dc_before;
  if (lstm && grad_c_n) std::copy(grad_c_n, grad_c_n + B * H, dc.begin());

  for (int64_t k = s.steps - 1; k >= 0; --k) {
    const int64_t t = order.time(k);
    const T* h_prev = k == 0 ? h0 : output + order.time(k - 1) * B * H;
    const T* c_prev = lstm ? (k == 0 ? c0 : extra + order.time(k - 1) * B * H) : nullptr;
    std::copy(h_prev, h_prev + B * H, h_prev_all.begin() + t * B * H);
    if (mask && lstm) dc_before = dc;
    parallel_for(B, 16 * GH, [&](int64_t b0, int64_t b1) {
      const Step<T> st{b0, b1 - b0, H, GH};
      backward_rows(s.mode, st, grad_output + t * B * H, output + t * B * H, h_prev, c_prev,
                    gates ? gates + t * B * GH : nullptr, extra ? extra + t * B * H : nullptr,
                    dh.data(), dc.data(), da.data() + t * B * GH, gru ? drp + t * B * GH : nullptr);
      if (mask)  // skipped steps: no gate gradients; dh and dc pass through unchanged
        for (int64_t b = b0; b < b1; ++b) {
          if (mask[t * B + b]) continue;
          std::fill(da.data() + (t * B + b) * GH, da.data() + (t * B + b + 1) * GH, T(0));
          if (gru) std::fill(drp + (t * B + b) * GH, drp + (t * B + b + 1) * GH, T(0));
          if (lstm) std::copy(dc_before.begin() + b * H, dc_before.begin() + (b + 1) * H,
                              dc.begin() + b * H);
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
