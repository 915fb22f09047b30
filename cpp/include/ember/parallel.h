// The only place with `#pragma omp`: every parallel loop in ember goes through parallel_for.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace ember {

int get_num_threads();
void set_num_threads(int n);

constexpr int64_t kMinParallelWork = 1 << 16;

// How many chunks parallel_for splits [0, n) into: one per thread when the work (n *
// cost_per_item, roughly in flops) pays for waking the pool, else 1.
inline int parallel_chunks(int64_t n, int64_t cost_per_item) {
  const int threads = static_cast<int>(std::min<int64_t>(get_num_threads(), n));
  return threads <= 1 || n * cost_per_item < kMinParallelWork ? 1 : threads;
}

// Runs body(chunk, begin, end) over [0, n) split into parallel_chunks(n, cost_per_item)
// contiguous chunks, in parallel when there are several; chunk c is [n * c / C, n * (c + 1) / C).
// `body` must not throw: an exception escaping an OpenMP region aborts the process.
// Eigen products run single-threaded (set_num_threads turns Eigen's own threading off); a
// product worth splitting outside a parallel region goes through parallel_product.h.
template <class Body>
void parallel_chunks_for(int64_t n, int64_t cost_per_item, const Body& body) {
  const int chunks = parallel_chunks(n, cost_per_item);
  if (chunks == 1) {
    if (n > 0) body(0, int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(chunks)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) body(static_cast<int>(t), begin, end);
  }
}

// Runs body(begin, end) over [0, n) in parallel_chunks_for's chunks.
template <class Body>
void parallel_for(int64_t n, int64_t cost_per_item, const Body& body) {
  parallel_chunks_for(n, cost_per_item, [&](int, int64_t b, int64_t e) { body(b, e); });
}

}  // namespace ember
