// Matrix transposes for layout changes (NCHW <-> NHWC): 8 x 8 float tiles transposed in
// registers (three rounds of shuffles, as the classic AVX sequence), the edges element by
// element. A plain strided loop and Eigen's transposed assignment both measured several times
// slower: every element pays a strided access.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace ember {

namespace detail {
typedef float F8 __attribute__((vector_size(32)));
typedef int32_t I8 __attribute__((vector_size(32)));

inline F8 mix(const F8& a, const F8& b, I8 order) {
#if defined(__GNUC__) && !defined(__clang__)
  return __builtin_shuffle(a, b, order);
#else
  F8 out;
  for (int i = 0; i < 8; ++i) out[i] = order[i] < 8 ? a[order[i]] : b[order[i] - 8];
  return out;
#endif
}

// dst rows 0..7 (stride ld_dst) = columns of the 8 x 8 tile at src (stride ld_src).
inline void transpose_tile8(const float* src, int64_t ld_src, float* dst, int64_t ld_dst) {
  F8 r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) std::memcpy(&r[i], src + i * ld_src, 32);
  const I8 lo{0, 8, 1, 9, 4, 12, 5, 13}, hi{2, 10, 3, 11, 6, 14, 7, 15};
  const I8 lo2{0, 1, 8, 9, 4, 5, 12, 13}, hi2{2, 3, 10, 11, 6, 7, 14, 15};
  const I8 lo4{0, 1, 2, 3, 8, 9, 10, 11}, hi4{4, 5, 6, 7, 12, 13, 14, 15};
  for (int i = 0; i < 8; i += 2) t[i] = mix(r[i], r[i + 1], lo), t[i + 1] = mix(r[i], r[i + 1], hi);
  for (int i = 0; i < 8; i += 4) {
    u[i] = mix(t[i], t[i + 2], lo2), u[i + 1] = mix(t[i], t[i + 2], hi2);
    u[i + 2] = mix(t[i + 1], t[i + 3], lo2), u[i + 3] = mix(t[i + 1], t[i + 3], hi2);
  }
  for (int i = 0; i < 4; ++i) {
    const F8 column = mix(u[i], u[i + 4], lo4), column4 = mix(u[i], u[i + 4], hi4);
    std::memcpy(dst + i * ld_dst, &column, 32);
    std::memcpy(dst + (i + 4) * ld_dst, &column4, 32);
  }
}
}  // namespace detail

// dst (cols, rows) = src (rows, cols)^T, both row-major and dense.
template <class T>
void transpose(const T* src, int64_t rows, int64_t cols, T* dst) {
  int64_t r0 = 0, c0 = 0;
  if constexpr (std::is_same_v<T, float>) {
    for (r0 = 0; r0 + 8 <= rows; r0 += 8)
      for (c0 = 0; c0 + 8 <= cols; c0 += 8)
        detail::transpose_tile8(src + r0 * cols + c0, cols, dst + c0 * rows + r0, rows);
    // Columns past the last whole tile, for the rows the tiles covered.
    for (int64_t c = cols / 8 * 8; c < cols; ++c)
      for (int64_t r = 0; r < r0; ++r) dst[c * rows + r] = src[r * cols + c];
  }
  for (int64_t r = r0; r < rows; ++r)  // the remaining rows (all of them for double)
    for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
}

}  // namespace ember
