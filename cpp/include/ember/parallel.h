// The only place with `#pragma omp`: every parallel loop in ember goes through parallel_for.
#pragma once
#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace ember {

int get_num_threads();
void set_num_threads(int n);

// Runs body(begin, end) over [0, n) split into one contiguous chunk per thread, in parallel
// only when the work (n * cost_per_item, roughly in flops) pays for waking the pool.
// `body` must not throw: an exception escaping an OpenMP region aborts the process.
// Eigen products called from inside `body` run single-threaded (Eigen checks
// omp_get_num_threads), so nesting never oversubscribes the cores.
template <class Body>
void parallel_for(int64_t n, int64_t cost_per_item, const Body& body) {
  constexpr int64_t kMinParallelWork = 1 << 16;
  const int threads = static_cast<int>(std::min<int64_t>(get_num_threads(), n));
  if (threads <= 1 || n * cost_per_item < kMinParallelWork) {
    if (n > 0) body(int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t begin = n * t / nt, end = n * (t + 1) / nt;
    if (begin < end) body(begin, end);
  }
}

}  // namespace ember
