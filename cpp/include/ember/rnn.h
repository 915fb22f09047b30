// Whole-sequence recurrent layers (Elman RNN, LSTM, GRU) with fused backpropagation through time.
// One call runs one layer in one direction; stacking and bidirectionality are the caller's.
#pragma once
#include <cstdint>

namespace ember {

enum class RnnMode { rnn_tanh, rnn_relu, lstm, gru };

constexpr int64_t gate_count(RnnMode m) {
  return m == RnnMode::lstm ? 4 : m == RnnMode::gru ? 3 : 1;
}

// Sizes: input (steps, batch, input_size), or (batch, steps, input_size) when batch_first (the
// output and the reserve then follow the same layout); states (batch, hidden).
struct RnnShape {
  int64_t steps, batch, input_size, hidden;
  RnnMode mode;
  bool reverse;      // run from the last step to the first
  bool batch_first;  // sequences stored sample by sample
};

// What forward saves for backward, reserve_width per (step, sample): LSTM the gate activations
// i, f, g, o and the cell state (5H); GRU r, z, n and W_hn h + b_hn (4H); RNN nothing. Stored
// as two blocks, time-major whatever the input's layout: all gates (steps, batch, G*H), then
// (steps, batch, H) cell or W_hn h + b_hn.
constexpr int64_t reserve_width(const RnnShape& s) {
  return s.mode == RnnMode::lstm ? 5 * s.hidden : s.mode == RnnMode::gru ? 4 * s.hidden : 0;
}

// PyTorch's math and gate orders (LSTM i, f, g, o; GRU r, z, n with the reset gate applied
// after the hidden product). Weights (G*H, input) and (G*H, H); biases (G*H) or null; c0 and
// c_n only for LSTM; mask (steps, batch) or null: a zero skips that step for that sample (its
// state is carried over and the output repeats it). output is (steps, batch, H) in the input's
// layout. reserve may be null when no backward follows (inference).
template <class T>
void rnn_forward(const RnnShape& s, const T* input, const T* h0, const T* c0, const T* w_ih,
                 const T* w_hh, const T* b_ih, const T* b_hh, const uint8_t* mask, T* output,
                 T* c_n, T* reserve);

// grad_output (steps, batch, H) is the gradient of every output step (h_n's gradient is part of
// it, at the last step processed); grad_c_n (LSTM) may be null. Any grad_* output may be null.
template <class T>
void rnn_backward(const RnnShape& s, const T* grad_output, const T* grad_c_n, const T* input,
                  const T* h0, const T* c0, const T* w_ih, const T* w_hh, const uint8_t* mask,
                  const T* output, const T* reserve, T* grad_input, T* grad_h0, T* grad_c0,
                  T* grad_w_ih, T* grad_w_hh, T* grad_b_ih, T* grad_b_hh);

}  // namespace ember
