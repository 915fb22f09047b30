// Embedding lookup and its gradient (accumulated per index; padding_idx gets none).
#pragma once
#include <cstdint>

namespace ember {

// output (n, dim) = weight[indices[i]]; indices were validated against the table size.
template <class T>
void embedding_forward(const T* weight, int64_t dim, const int64_t* indices, int64_t n, T* output);

// grad_weight (num, dim): sum of grad_output rows per index, in index order; padding_idx < 0
// means none.
template <class T>
void embedding_backward(const T* grad_output, const int64_t* indices, int64_t n, int64_t num,
                        int64_t dim, int64_t padding_idx, T* grad_weight);

}  // namespace ember
