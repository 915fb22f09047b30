// Dropout masks from a counter-based random generator, Philox4x32-10 (Salmon et al., "Parallel
// random numbers: as easy as 1, 2, 3", SC 2011): element i's draw depends only on (seed, i), so
// a seed gives the same mask at any thread count, and every thread fills its own slice.
#pragma once
#include <array>
#include <cstdint>

namespace ember {

// One Philox4x32-10 block: four 32-bit words from a 128-bit counter and a 64-bit key.
std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter,
                                      std::array<uint32_t, 2> key);

// Element 128g + 32l + j of a mask (0 <= l < 4, 0 <= j < 32) takes word l of the Philox block
// with counter (32g + j, 0) and key (seed low, seed high), whatever the instruction set; the
// element is dropped when that word is below drop_threshold (round(p * 2^32), at most
// 2^32 - 1), and a kept element is worth `scale` (1 / (1 - p); 0 when p == 1).
struct DropoutParams {
  uint64_t seed = 0;
  uint32_t drop_threshold = 0;
  double scale = 1;
};

// mask[i] = scale or 0.
template <class T>
void dropout_mask(T* mask, int64_t n, DropoutParams p);
// mask as dropout_mask, and output[i] = input[i] * mask[i] (NaN stays NaN, as in PyTorch).
template <class T>
void dropout_forward(const T* input, T* output, T* mask, int64_t n, DropoutParams p);
// grad_input[i] = grad_output[i] * mask[i].
template <class T>
void dropout_backward(const T* grad_output, const T* mask, T* grad_input, int64_t n);

}  // namespace ember
