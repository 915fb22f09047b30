// Matrix products whose threading ember decides, not Eigen.
//
// Eigen runs single-threaded (set_num_threads): its own threading of a product called outside a
// parallel region split even a batch-1 convolution's 64x250x20 product over both threads, which
// on 2 vCPUs sharing a core cost more than the product (a 55 us model forward took 110 us at 2
// threads), and kept the pool's threads spinning between the forward's kernels.
#pragma once
#include <algorithm>
#include <cstdint>

#include "ember/parallel.h"

namespace ember {

// Below this many FLOP a product runs on the calling thread (measured at 2 threads: Eigen's
// threading of convolution products gained nothing below ~12 MFLOP).
constexpr int64_t kMinParallelProduct = int64_t(8) << 20;

// dst = lhs * rhs. Outside a parallel region, a product worth splitting goes to the threads in
// blocks of dst's longer side, each block a single-threaded Eigen product.
template <class Dst, class Lhs, class Rhs>
void parallel_product(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  constexpr int64_t kBlock = 16;
  const int64_t rows = dst.rows(), cols = dst.cols(), depth = lhs.cols();
  if (omp_in_parallel() || 2 * rows * cols * depth < kMinParallelProduct) {
    dst.noalias() = lhs * rhs;
    return;
  }
  const bool by_rows = rows >= cols;
  const int64_t length = by_rows ? rows : cols, blocks = (length + kBlock - 1) / kBlock;
  const int64_t per_block = 2 * kBlock * (by_rows ? cols : rows) * depth;
  parallel_for(blocks, per_block, [&](int64_t b, int64_t e) {
    const int64_t first = b * kBlock, count = std::min(length, e * kBlock) - first;
    if (by_rows)
      dst.middleRows(first, count).noalias() = lhs.middleRows(first, count) * rhs;
    else
      dst.middleCols(first, count).noalias() = lhs * rhs.middleCols(first, count);
  });
}

}  // namespace ember
