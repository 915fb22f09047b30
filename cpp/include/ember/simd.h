// Portable fixed-width SIMD through GCC/clang vector extensions, for loops the compiler does
// not vectorize well on its own (short rows, interleaved data). One vector is the widest the
// build's instruction-set level has (64 bytes with AVX-512, 32 with AVX, else 16), so the same
// source serves every _core_<level> module.
#pragma once
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ember::simd {

#if defined(__AVX512F__)
constexpr int kBytes = 64;
#elif defined(__AVX__)
constexpr int kBytes = 32;
#else
constexpr int kBytes = 16;
#endif

// Vec<T>: kBytes of T; Mask<T>: the same lanes as integers of T's size (what compares return);
// Index<T>: the same lane count as int64 (positions).
template <class T>
struct Types {
  static constexpr int lanes = kBytes / sizeof(T);
  using MaskInt = std::conditional_t<sizeof(T) == 4, int32_t, int64_t>;
  typedef T Vec __attribute__((vector_size(kBytes)));
  typedef MaskInt Mask __attribute__((vector_size(kBytes)));
  typedef int64_t Index __attribute__((vector_size(lanes * 8)));
};
template <class T>
constexpr int lanes = Types<T>::lanes;
template <class T>
using Vec = typename Types<T>::Vec;
template <class T>
using Mask = typename Types<T>::Mask;
template <class T>
using Index = typename Types<T>::Index;

template <class V>
inline V load(const void* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <class V>
inline void store(void* p, const V& v) {
  std::memcpy(p, &v, sizeof v);
}

namespace detail {
// Masked moves of the first `count` elements (of `size` bytes each) of one kBytes chunk: they
// touch no memory past those elements, and a load leaves the other lanes zero. Copying through
// a buffer instead stalls the next vector load on store forwarding (measured: the tails of short
// rows then cost more than the full vectors).
template <int size>
inline void load_chunk(void* dst, const void* src, int count) {
#if defined(__AVX512F__)
  const __mmask16 k = static_cast<__mmask16>((1u << count) - 1);
  const __m512i v = size == 4 ? _mm512_maskz_loadu_epi32(k, src) : _mm512_maskz_loadu_epi64(k, src);
  std::memcpy(dst, &v, kBytes);
#elif defined(__AVX2__)
  const __m256i lane = size == 4 ? _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)
                                 : _mm256_setr_epi64x(0, 1, 2, 3);
  const __m256i mask = size == 4 ? _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane)
                                 : _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), lane);
  const __m256i v = size == 4 ? _mm256_maskload_epi32(static_cast<const int*>(src), mask)
                              : _mm256_maskload_epi64(static_cast<const long long*>(src), mask);
  std::memcpy(dst, &v, kBytes);
#else
  std::memset(dst, 0, kBytes);
  std::memcpy(dst, src, count * size);
#endif
}
template <int size>
inline void store_chunk(void* dst, const void* src, int count) {
  if (count == kBytes / size) {  // a whole vector: a plain store (see the AVX2 case below: on
    std::memcpy(dst, src, kBytes);  // Zen 4 masked stores took half a direct convolution's time)
    return;
  }
#if defined(__AVX512F__)
  const __mmask16 k = static_cast<__mmask16>((1u << count) - 1);
  __m512i v;
  std::memcpy(&v, src, kBytes);
  if (size == 4)
    _mm512_mask_storeu_epi32(dst, k, v);
  else
    _mm512_mask_storeu_epi64(dst, k, v);
#elif defined(__AVX2__)
  // 16-, 8- and 4-byte pieces: AMD runs AVX2's masked stores (vpmaskmov) as slow microcode.
  __m256i v;
  std::memcpy(&v, src, kBytes);
  char* d = static_cast<char*>(dst);
  const int bytes = count * size;
  __m128i piece = _mm256_castsi256_si128(v);
  if (bytes & 16) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), piece);
    piece = _mm256_extracti128_si256(v, 1), d += 16;
  }
  if (bytes & 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(d), piece);
    piece = _mm_srli_si128(piece, 8), d += 8;
  }
  if (bytes & 4) _mm_storeu_si32(d, piece);
#else
  std::memcpy(dst, src, count * size);
#endif
}
}  // namespace detail

// The first `count` elements of a vector (0 <= count <= its length); the rest of a load is 0.
template <class V>
inline V load_first(const void* p, int count) {
  constexpr int size = sizeof(V{}[0]), per_chunk = kBytes / size;
  V v;
  for (int chunk = 0; chunk < int(sizeof(V)) / kBytes; ++chunk) {
    const int c = std::max(0, std::min(per_chunk, count - chunk * per_chunk));
    detail::load_chunk<size>(reinterpret_cast<char*>(&v) + chunk * kBytes,
                             static_cast<const char*>(p) + chunk * kBytes, c);
  }
  return v;
}
template <class V>
inline void store_first(void* p, const V& v, int count) {
  constexpr int size = sizeof(V{}[0]), per_chunk = kBytes / size;
  for (int chunk = 0; chunk < int(sizeof(V)) / kBytes; ++chunk) {
    const int c = std::max(0, std::min(per_chunk, count - chunk * per_chunk));
    if (c > 0)
      detail::store_chunk<size>(static_cast<char*>(p) + chunk * kBytes,
                                reinterpret_cast<const char*>(&v) + chunk * kBytes, c);
  }
}

// dst[0, n) = src[0, n) and dst[0, n) += src[0, n) for short runs (im2col rows are often
// under a vector long): inline vector moves with a masked tail instead of a memmove call.
template <class T>
inline void copy_n(const T* src, int64_t n, T* dst) {
  using V = typename Types<T>::Vec;
  constexpr int L = Types<T>::lanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) store(dst + i, load<V>(src + i));
  if (i < n) store_first(dst + i, load_first<V>(src + i, int(n - i)), int(n - i));
}
template <class T>
inline void add_n(const T* src, int64_t n, T* dst) {
  using V = typename Types<T>::Vec;
  constexpr int L = Types<T>::lanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) store(dst + i, load<V>(dst + i) + load<V>(src + i));
  if (i < n) {
    const int m = int(n - i);
    store_first(dst + i, load_first<V>(dst + i, m) + load_first<V>(src + i, m), m);
  }
}
template <class T>
inline void zero_n(T* dst, int64_t n) {
  using V = typename Types<T>::Vec;
  constexpr int L = Types<T>::lanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) store(dst + i, V{});
  if (i < n) store_first(dst + i, V{}, int(n - i));
}

// The lanes of v added in lane order.
template <class T>
inline T lane_sum(const Vec<T>& v) {
  T total = v[0];
  for (int l = 1; l < Types<T>::lanes; ++l) total += v[l];
  return total;
}

// The sum of x[0, n): lane l adds the elements l, l + lanes, ... in order, then the lanes are
// added in order. Unlike Eigen's sum, the order does not depend on x's alignment, so equal
// inputs at different addresses give equal sums.
template <class T>
inline T sum_n(const T* x, int64_t n) {
  using V = typename Types<T>::Vec;
  constexpr int L = Types<T>::lanes;
  V acc{};
  int64_t i = 0;
  for (; i + L <= n; i += L) acc += load<V>(x + i);
  if (i < n) acc += load_first<V>(x + i, int(n - i));
  return lane_sum<T>(acc);
}

template <class V>
inline V iota(typename std::remove_reference_t<decltype(V{}[0])> step) {
  V v;
  for (int i = 0; i < int(sizeof(V) / sizeof(v[0])); ++i) v[i] = i * step;
  return v;
}

// The even and the odd elements of the 2 * lanes values a, b.
template <class T>
inline void deinterleave(const Vec<T>& a, const Vec<T>& b, Vec<T>& even, Vec<T>& odd) {
#if defined(__GNUC__) && !defined(__clang__)
  even = __builtin_shuffle(a, b, iota<Mask<T>>(2));
  odd = __builtin_shuffle(a, b, iota<Mask<T>>(2) + 1);
#else
  constexpr int n = lanes<T>;
  for (int i = 0; i < n / 2; ++i) {
    even[i] = a[2 * i], odd[i] = a[2 * i + 1];
    even[n / 2 + i] = b[2 * i], odd[n / 2 + i] = b[2 * i + 1];
  }
#endif
}

// The inverse: lo, hi = even[0], odd[0], even[1], odd[1], ...
template <class T>
inline void interleave(const Vec<T>& even, const Vec<T>& odd, Vec<T>& lo, Vec<T>& hi) {
  constexpr int n = lanes<T>;
#if defined(__GNUC__) && !defined(__clang__)
  const Mask<T> order = iota<Mask<T>>(1) / 2 + (iota<Mask<T>>(1) % 2) * n;  // 0, n, 1, n+1, ...
  lo = __builtin_shuffle(even, odd, order);
  hi = __builtin_shuffle(even, odd, order + n / 2);
#else
  for (int i = 0; i < n / 2; ++i) {
    lo[2 * i] = even[i], lo[2 * i + 1] = odd[i];
    hi[2 * i] = even[n / 2 + i], hi[2 * i + 1] = odd[n / 2 + i];
  }
#endif
}

// Lanes of a compare result (-1 or 0 per lane) as int64 lanes.
template <class T>
inline Index<T> widen(const Mask<T>& m) {
  return __builtin_convertvector(m, Index<T>);
}
template <class T>
inline Mask<T> narrow(const Index<T>& m) {
  return __builtin_convertvector(m, Mask<T>);
}

}  // namespace ember::simd
