// The cell math of one step for one sample, on SIMD packets of hidden units: what the tiles of
// rnn_tile.h hand their accumulators to. PyTorch's formulas and gate orders (LSTM i, f, g, o;
// GRU r, z, n with the reset gate applied after the hidden product).
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "ember/rnn.h"
#include "ember/simd.h"
#include "rnn_tile.h"

namespace ember::rnn_detail {

// n <= lanes elements at p (zeros past n), and the first n lanes of v stored at p; the partial
// packets of a hidden size that is not a multiple of the lanes move through simd.h's masks.
static_assert(sizeof(simd::Vec<float>) == sizeof(Packet<float>), "one packet is one simd::Vec");
template <class T>
EIGEN_ALWAYS_INLINE Packet<T> load(const T* p, int n) {
  if (n == kLanes<T>) return Eigen::internal::ploadu<Packet<T>>(p);
  const simd::Vec<T> v = simd::load_first<simd::Vec<T>>(p, n);
  Packet<T> r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
template <class T>
EIGEN_ALWAYS_INLINE void store(T* p, const Packet<T>& v, int n) {
  if (n == kLanes<T>) return Eigen::internal::pstoreu(p, v);
  simd::Vec<T> w;
  std::memcpy(&w, &v, sizeof w);
  simd::store_first(p, w, n);
}

// Eigen's own logistic and tanh (as its array expressions use them): vectorized where Eigen has
// a packet version (float), lane by lane otherwise (double tanh).
template <class Op, class T>
EIGEN_ALWAYS_INLINE Packet<T> unary(const Packet<T>& x) {
  if constexpr (Eigen::internal::functor_traits<Op>::PacketAccess) {
    return Op().packetOp(x);
  } else {
    alignas(64) T buf[kLanes<T>];
    Eigen::internal::pstore(buf, x);
    for (T& v : buf) v = Op()(v);
    return Eigen::internal::pload<Packet<T>>(buf);
  }
}
template <class T>
EIGEN_ALWAYS_INLINE Packet<T> sigmoid(const Packet<T>& x) {
  return unary<Eigen::internal::scalar_logistic_op<T>, T>(x);
}
template <class T>
EIGEN_ALWAYS_INLINE Packet<T> tanh(const Packet<T>& x) {
  return unary<Eigen::internal::scalar_tanh_op<T>, T>(x);
}

// One sample at one step, forward. x: the input side of the pre-activations (G*H, biases
// included except GRU's b_hh) when the step's product covers only the recurrent weights, or the
// input-side biases when it covers both; gates (G*H, may alias x), c and hn are written when
// not null.
template <class T>
struct CellRow {
  const T* x = nullptr;
  T* gates = nullptr;
  const T* h_prev = nullptr;
  T* h = nullptr;
  const T* c_prev = nullptr;
  T* c = nullptr;
  T* hn = nullptr;  // GRU: W_hn h + b_hn
};

template <class T>
struct CellForward {
  RnnMode mode;
  int64_t H, U;     // hidden size, unit packets per panel
  const T* b_hh;    // GRU's recurrent bias, or null

  // acc[q * U + j]: gate q's product for unit packet j of panel p; GRU (U = 1) has four: r, z,
  // and the n gate's input and hidden products apart (the input one is 0 when x holds it).
  EIGEN_ALWAYS_INLINE void run(const Packet<T>* acc, int64_t p, bool skip,
                               const CellRow<T>& r) const {
    constexpr int L = kLanes<T>;
    for (int64_t j = 0; j < U; ++j) {
      const int64_t u = (p * U + j) * L;
      if (u >= H) return;
      const int n = static_cast<int>(std::min<int64_t>(L, H - u));
      if (skip)
        carry(u, n, r);
      else
        cell(acc + j, u, n, r);
    }
  }

 private:
  // A skipped step: the state carries over; the saved gates (and GRU's hn) are zeros.
  EIGEN_ALWAYS_INLINE void carry(int64_t u, int n, const CellRow<T>& r) const {
    std::copy(r.h_prev + u, r.h_prev + u + n, r.h + u);
    if (r.c) std::copy(r.c_prev + u, r.c_prev + u + n, r.c + u);
    const int64_t G = gate_count(mode);
    if (r.gates)
      for (int64_t q = 0; q < G; ++q) std::fill(r.gates + q * H + u, r.gates + q * H + u + n, T(0));
    if (r.hn) std::fill(r.hn + u, r.hn + u + n, T(0));
  }

  EIGEN_ALWAYS_INLINE void cell(const Packet<T>* a, int64_t u, int n, const CellRow<T>& r) const {
    using namespace Eigen::internal;
    using P = Packet<T>;
    const P one = pset1<P>(T(1));
    auto pre = [&](int q) { return padd(load(r.x + q * H + u, n), a[q * U]); };
    switch (mode) {
      case RnnMode::rnn_tanh: store(r.h + u, tanh<T>(pre(0)), n); return;
      case RnnMode::rnn_relu: store(r.h + u, pmax(pre(0), pset1<P>(T(0))), n); return;
      case RnnMode::lstm: {
        const P i = sigmoid<T>(pre(0)), f = sigmoid<T>(pre(1)), g = tanh<T>(pre(2)),
                o = sigmoid<T>(pre(3));
        const P c = padd(pmul(f, load(r.c_prev + u, n)), pmul(i, g));
        store(r.c + u, c, n);
        store(r.h + u, pmul(o, tanh<T>(c)), n);
        if (r.gates) {
          store(r.gates + u, i, n);
          store(r.gates + H + u, f, n);
          store(r.gates + 2 * H + u, g, n);
          store(r.gates + 3 * H + u, o, n);
        }
        return;
      }
      case RnnMode::gru: {
        auto hidden = [&](int slot, int q) {  // the hidden side of gate q, with b_hh
          return b_hh ? padd(a[slot], load(b_hh + q * H + u, n)) : a[slot];
        };
        const P hn = hidden(3, 2);
        const P rg = sigmoid<T>(padd(load(r.x + u, n), hidden(0, 0)));
        const P z = sigmoid<T>(padd(load(r.x + H + u, n), hidden(1, 1)));
        const P xn = padd(load(r.x + 2 * H + u, n), a[2]);
        const P ng = tanh<T>(padd(xn, pmul(rg, hn)));
        store(r.h + u, padd(pmul(psub(one, z), ng), pmul(z, load(r.h_prev + u, n))), n);
        if (r.gates) {
          store(r.gates + u, rg, n);
          store(r.gates + H + u, z, n);
          store(r.gates + 2 * H + u, ng, n);
        }
        if (r.hn) store(r.hn + u, hn, n);
        return;
      }
    }
  }
};

// One sample at one step, backward: what forward saved, and the gradients it updates: dh (the
// gradient reaching h, grad_output included) and dc in place, da and dr (G*H each; dr aliases da
// except for GRU) written, and added to the bias gradients db_ih and db_hh when not null (db_hh
// only for GRU: elsewhere it equals db_ih).
template <class T>
struct CellGradRow {
  const T* gates = nullptr;
  const T* h = nullptr;
  const T* h_prev = nullptr;
  const T* c = nullptr;
  const T* c_prev = nullptr;
  const T* hn = nullptr;
  T* da = nullptr;
  T* dr = nullptr;
  T* dh = nullptr;
  T* dc = nullptr;
  T* db_ih = nullptr;
  T* db_hh = nullptr;
  bool skip = false;
};

template <class T>
struct CellBackward {
  RnnMode mode;
  int64_t H;

  // The gradient reaching h_prev of the step `next` from its dh, given hp = dr @ w_hh for these
  // units: the product, plus GRU's direct path z * dh; a skipped step passes dh through.
  EIGEN_ALWAYS_INLINE Packet<T> through_step(const Packet<T>& hp, int64_t u, int n,
                                             const CellGradRow<T>& next) const {
    using namespace Eigen::internal;
    if (next.skip) return load(next.dh + u, n);
    if (mode == RnnMode::gru)
      return padd(hp, pmul(load(next.dh + u, n), load(next.gates + H + u, n)));
    return hp;
  }

  // Gate gradients of units [u, u + n) from dh; LSTM's dc becomes the gradient of c_prev.
  EIGEN_ALWAYS_INLINE void step(int64_t u, int n, const CellGradRow<T>& r) const {
    gates(u, n, r);
    if (r.skip || !r.db_ih) return;
    using namespace Eigen::internal;
    for (int64_t q = 0, G = gate_count(mode); q < G; ++q) {
      const int64_t j = q * H + u;
      store(r.db_ih + j, padd(load(r.db_ih + j, n), load(r.da + j, n)), n);
      if (mode == RnnMode::gru)
        store(r.db_hh + j, padd(load(r.db_hh + j, n), load(r.dr + j, n)), n);
    }
  }

 private:
  EIGEN_ALWAYS_INLINE void gates(int64_t u, int n, const CellGradRow<T>& r) const {
    using namespace Eigen::internal;
    using P = Packet<T>;
    const int64_t G = gate_count(mode);
    if (r.skip) {  // no gate gradients; dh and dc pass through unchanged
      for (int64_t q = 0; q < G; ++q) {
        std::fill(r.da + q * H + u, r.da + q * H + u + n, T(0));
        std::fill(r.dr + q * H + u, r.dr + q * H + u + n, T(0));
      }
      return;
    }
    const P one = pset1<P>(T(1));
    const P dh = load(r.dh + u, n);
    switch (mode) {
      case RnnMode::rnn_tanh: {
        const P h = load(r.h + u, n);
        store(r.da + u, pmul(dh, psub(one, pmul(h, h))), n);
        return;
      }
      case RnnMode::rnn_relu: {
        const P h = load(r.h + u, n);
        store(r.da + u, pselect(pcmp_lt(pset1<P>(T(0)), h), dh, pset1<P>(T(0))), n);
        return;
      }
      case RnnMode::lstm: {
        const T* gt = r.gates;
        const P i = load(gt + u, n), f = load(gt + H + u, n), g = load(gt + 2 * H + u, n),
                o = load(gt + 3 * H + u, n);
        const P tc = tanh<T>(load(r.c + u, n));
        const P dcell = padd(load(r.dc + u, n), pmul(pmul(dh, o), psub(one, pmul(tc, tc))));
        store(r.da + u, pmul(pmul(pmul(dcell, g), i), psub(one, i)), n);
        store(r.da + H + u, pmul(pmul(pmul(dcell, load(r.c_prev + u, n)), f), psub(one, f)), n);
        store(r.da + 2 * H + u, pmul(pmul(dcell, i), psub(one, pmul(g, g))), n);
        store(r.da + 3 * H + u, pmul(pmul(pmul(dh, tc), o), psub(one, o)), n);
        store(r.dc + u, pmul(dcell, f), n);
        return;
      }
      case RnnMode::gru: {
        const T* gt = r.gates;
        const P rg = load(gt + u, n), z = load(gt + H + u, n), ng = load(gt + 2 * H + u, n);
        const P dn = pmul(pmul(dh, psub(one, z)), psub(one, pmul(ng, ng)));
        const P dar = pmul(pmul(pmul(dn, load(r.hn + u, n)), rg), psub(one, rg));
        const P daz = pmul(pmul(pmul(dh, psub(load(r.h_prev + u, n), ng)), z), psub(one, z));
        store(r.da + u, dar, n);
        store(r.da + H + u, daz, n);
        store(r.da + 2 * H + u, dn, n);
        store(r.dr + u, dar, n);
        store(r.dr + H + u, daz, n);
        store(r.dr + 2 * H + u, pmul(dn, rg), n);
        return;
      }
    }
  }
};

}  // namespace ember::rnn_detail
