// A per-thread cache of arrays derived from a layer's weights (such as Winograd's transformed
// filters), found again when the weights are bitwise what they were when the array was made.
// Inference calls a layer with the same weights every time; the check costs one pass over the
// weights, less than deriving the array again. Nothing is trusted but the bytes: a weight
// changed in place (an optimizer step, copy_, a NumPy view) or freed memory reused by another
// layer at the same address misses the cache.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace ember {

template <class T>
class DerivedWeights {
 public:
  using Array = std::shared_ptr<const T[]>;

  // The array `derive()` returns for `weight` (count elements; `kind` tells apart different
  // derivations of the same weights), from this thread's cache when the weights are unchanged.
  template <class Derive>
  static Array get(int kind, const T* weight, int64_t count, int64_t derived_count,
                   const Derive& derive) {
    if (derived_count + count > kMaxElements) return Array(derive());
    std::vector<Entry>& entries = cache();
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      if (it->kind != kind || it->source != weight || int64_t(it->weight.size()) != count)
        continue;
      if (std::memcmp(it->weight.data(), weight, count * sizeof(T)) == 0) {
        std::rotate(entries.begin(), it, it + 1);  // most recent first
        return entries.front().derived;
      }
      entries.erase(it);  // the weights changed: derive again (below)
      break;
    }
    Array derived(derive());
    if (entries.size() == kEntries) entries.pop_back();
    entries.insert(entries.begin(), Entry{kind, weight, std::vector<T>(weight, weight + count),
                                          derived});
    return derived;
  }

 private:
  static constexpr size_t kEntries = 8;
  static constexpr int64_t kMaxElements = int64_t(1) << 18;  // per entry: 1 MB of float32

  struct Entry {
    int kind;
    const T* source;
    std::vector<T> weight;  // the bytes the array was derived from
    Array derived;
  };
  static std::vector<Entry>& cache() {
    thread_local std::vector<Entry> entries;
    return entries;
  }
};

}  // namespace ember
