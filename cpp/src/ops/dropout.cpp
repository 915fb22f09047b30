#include "ember/dropout.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "ember/parallel.h"
#include "ember/simd.h"

namespace ember {

namespace {

constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // Philox4x32 multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // Weyl key increments
constexpr int kRounds = 10;

// Philox blocks per group: 32 keeps several independent vectors in flight, which hides the
// multiply latency (16 blocks were 1.3x slower with AVX-512).
constexpr int64_t kBlocks = 32;
constexpr int64_t kGroup = 4 * kBlocks;    // mask elements per group
constexpr int64_t kDropoutCost = 8;        // per element, roughly: 10 rounds per 4 elements

inline void philox_round(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint32_t k0,
                         uint32_t k1) {
  const uint64_t p0 = uint64_t{kM0} * c0, p1 = uint64_t{kM1} * c2;
  const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
  const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
  c1 = static_cast<uint32_t>(p1);
  c3 = static_cast<uint32_t>(p0);
  c0 = n0;
  c2 = n2;
}

// Vectors of 64-bit lanes, each holding one 32-bit Philox word zero-extended: the 32 x 32 -> 64
// bit products are then one pmuludq per vector (the compiler does not find it on its own: it
// emits vpmullq on AVX-512 and a three-multiply emulation on AVX2).
using Words = simd::Vec<uint64_t>;
constexpr int kWordLanes = simd::lanes<uint64_t>;
typedef uint32_t NarrowWords __attribute__((vector_size(kWordLanes * 4)));

inline Words mul_wide(Words a, uint32_t m) {
#if defined(__AVX512F__)
  const __m512i product = _mm512_mul_epu32(reinterpret_cast<__m512i>(a), _mm512_set1_epi64(m));
#elif defined(__AVX2__)
  const __m256i product = _mm256_mul_epu32(reinterpret_cast<__m256i>(a), _mm256_set1_epi64x(m));
#elif defined(__SSE2__)
  const __m128i product = _mm_mul_epu32(reinterpret_cast<__m128i>(a), _mm_set1_epi64x(m));
#else
  const Words product = a * uint64_t{m};
#endif
  return reinterpret_cast<Words>(product);
}

// The kGroup words of group g, word l of block j at words[kBlocks * l + j]: vector lanes compute
// blocks side by side, and the mask is then written contiguously.
inline void philox_group(int64_t g, uint64_t seed, uint32_t words[kGroup]) {
  constexpr int kVecs = kBlocks / kWordLanes;
  constexpr uint64_t kLow = 0xFFFFFFFFu;
  // Block numbers kBlocks * g + j: a group never straddles a multiple of 2^32, so the high
  // words agree.
  const uint64_t first = static_cast<uint64_t>(g) * kBlocks;
  Words lane{};
  for (int j = 0; j < kWordLanes; ++j) lane[j] = j;
  Words c0[kVecs], c1[kVecs], c2[kVecs], c3[kVecs];
  for (int v = 0; v < kVecs; ++v) {
    c0[v] = ((first & kLow) + v * kWordLanes) + lane;
    c1[v] = Words{} + (first >> 32);
    c2[v] = Words{};
    c3[v] = Words{};
  }
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < kRounds; ++r) {
    for (int v = 0; v < kVecs; ++v) {
      const Words p0 = mul_wide(c0[v], kM0), p1 = mul_wide(c2[v], kM1);
      c0[v] = (p1 >> 32) ^ c1[v] ^ uint64_t{k0};
      c2[v] = (p0 >> 32) ^ c3[v] ^ uint64_t{k1};
      c1[v] = p1 & kLow;
      c3[v] = p0 & kLow;
    }
    k0 += kW0;
    k1 += kW1;
  }
  const Words* rows[4] = {c0, c1, c2, c3};
  for (int l = 0; l < 4; ++l)
    for (int v = 0; v < kVecs; ++v)
      simd::store(words + l * kBlocks + v * kWordLanes,
                  __builtin_convertvector(rows[l][v], NarrowWords));
}

// Runs body(first_element, words, count) for every group of [0, n), in parallel over groups.
template <class Body>
void for_each_group(int64_t n, uint64_t seed, const Body& body) {
  const int64_t groups = (n + kGroup - 1) / kGroup;
  parallel_for(groups, kDropoutCost * kGroup, [&](int64_t gb, int64_t ge) {
    alignas(64) uint32_t words[kGroup];
    for (int64_t g = gb; g < ge; ++g) {
      philox_group(g, seed, words);
      body(g * kGroup, words, std::min(kGroup, n - g * kGroup));
    }
  });
}

// The words (and compare results) of one float or one double vector's lanes.
typedef uint32_t WordsFor32 __attribute__((vector_size(simd::kBytes)));
typedef uint32_t WordsFor64 __attribute__((vector_size(simd::kBytes / 2)));
typedef int32_t KeepFor32 __attribute__((vector_size(simd::kBytes)));
typedef int32_t KeepFor64 __attribute__((vector_size(simd::kBytes / 2)));

// mask[0, count) from one group's words: scale where a word is >= threshold, else 0. Full groups
// go through vectors (GCC leaves the mixed uint32 -> float/double select scalar: 2x slower).
template <class T>
inline void mask_from_words(const uint32_t* words, int64_t count, uint32_t threshold, T scale,
                            T* mask) {
  if (count < kGroup) {
    for (int64_t i = 0; i < count; ++i) mask[i] = words[i] >= threshold ? scale : T(0);
    return;
  }
  constexpr int kLanes = simd::lanes<T>;
  using WordVec = std::conditional_t<sizeof(T) == 4, WordsFor32, WordsFor64>;
  using KeepVec = std::conditional_t<sizeof(T) == 4, KeepFor32, KeepFor64>;
  using Bits = simd::Mask<T>;
  Bits scale_bits;
  for (int l = 0; l < kLanes; ++l) std::memcpy(&scale_bits[l], &scale, sizeof(T));
  for (int64_t i = 0; i < kGroup; i += kLanes) {
    const KeepVec keep = simd::load<WordVec>(words + i) >= threshold;  // lanes of -1 or 0
    simd::store(mask + i, reinterpret_cast<simd::Vec<T>>(
                              __builtin_convertvector(keep, Bits) & scale_bits));
  }
}

}  // namespace

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int r = 0; r < kRounds; ++r) {
    philox_round(c[0], c[1], c[2], c[3], k[0], k[1]);
    k[0] += kW0;
    k[1] += kW1;
  }
  return c;
}

template <class T>
void dropout_mask(T* mask, int64_t n, DropoutParams p) {
  const T scale = static_cast<T>(p.scale);
  for_each_group(n, p.seed, [&](int64_t first, const uint32_t* words, int64_t count) {
    mask_from_words(words, count, p.drop_threshold, scale, mask + first);
  });
}

template <class T>
void dropout_forward(const T* input, T* output, T* mask, int64_t n, DropoutParams p) {
  const T scale = static_cast<T>(p.scale);
  for_each_group(n, p.seed, [&](int64_t first, const uint32_t* words, int64_t count) {
    mask_from_words(words, count, p.drop_threshold, scale, mask + first);
    const T *x = input + first, *m = mask + first;
    T* y = output + first;
    for (int64_t i = 0; i < count; ++i) y[i] = x[i] * m[i];
  });
}

template <class T>
void dropout_backward(const T* grad_output, const T* mask, T* grad_input, int64_t n) {
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) grad_input[i] = grad_output[i] * mask[i];
  });
}

template void dropout_mask<float>(float*, int64_t, DropoutParams);
template void dropout_mask<double>(double*, int64_t, DropoutParams);
template void dropout_forward<float>(const float*, float*, float*, int64_t, DropoutParams);
template void dropout_forward<double>(const double*, double*, double*, int64_t, DropoutParams);
template void dropout_backward<float>(const float*, const float*, float*, int64_t);
template void dropout_backward<double>(const double*, const double*, double*, int64_t);

}  // namespace ember
