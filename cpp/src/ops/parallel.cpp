#include "ember/parallel.h"

#include <Eigen/Core>
#include <atomic>

namespace ember {

namespace {
std::atomic<int> g_num_threads{0};  // 0: not set yet, use OpenMP's default
}

int get_num_threads() {
  const int n = g_num_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

void set_num_threads(int n) {
  g_num_threads.store(n, std::memory_order_relaxed);
  omp_set_num_threads(n);
  Eigen::setNbThreads(1);  // ember splits products itself (parallel_product.h)
}

}  // namespace ember
