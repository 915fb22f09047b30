#include "ember/embedding.h"

#include <algorithm>

#include "ember/parallel.h"

namespace ember {

template <class T>
void embedding_forward(const T* weight, int64_t dim, const int64_t* indices, int64_t n,
                       T* output) {
  parallel_for(n, dim, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      std::copy(weight + indices[i] * dim, weight + (indices[i] + 1) * dim, output + i * dim);
  });
}

template <class T>
void embedding_backward(const T* grad_output, const int64_t* indices, int64_t n, int64_t num,
                        int64_t dim, int64_t padding_idx, T* grad_weight) {
  std::fill(grad_weight, grad_weight + num * dim, T(0));
  // Threads own column ranges and walk all indices in order: repeated indices accumulate
  // without races, in an order that does not depend on the thread count.
  parallel_for(dim, n, [&](int64_t b, int64_t e) {
    for (int64_t i = 0; i < n; ++i) {
      if (indices[i] == padding_idx) continue;
      T* row = grad_weight + indices[i] * dim;
      const T* g = grad_output + i * dim;
      for (int64_t j = b; j < e; ++j) row[j] += g[j];
    }
  });
}

#define EMBER_INSTANTIATE(T)                                                               \
  template void embedding_forward<T>(const T*, int64_t, const int64_t*, int64_t, T*);      \
  template void embedding_backward<T>(const T*, const int64_t*, int64_t, int64_t, int64_t, \
                                      int64_t, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)

}  // namespace ember
