// Shape arithmetic on sizes a user chose (padding, stride, dilation, kernel and output sizes).
// int64 overflow would wrap into a small or negative size that passes the later checks and then
// reads or writes outside the buffers, so every sum and product of such sizes goes through here
// and an overflow is refused (ValueError naming the op, the argument and the values).
#pragma once
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#include <unistd.h>
#endif

#include "ember/check.h"

namespace ember {

inline int64_t checked_add(const char* op, const char* what, int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    throw std::invalid_argument(concat(op, ": ", what, " overflows int64 (", a, " + ", b, ")"));
  return r;
}

inline int64_t checked_mul(const char* op, const char* what, int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw std::invalid_argument(concat(op, ": ", what, " overflows int64 (", a, " * ", b, ")"));
  return r;
}

// The span of a dilated kernel, dilation * (kernel - 1) + 1.
inline int64_t checked_span(const char* op, int64_t kernel, int64_t dilation) {
  return checked_add(op, "the dilated kernel size", checked_mul(op, "the dilated kernel size",
                                                                dilation, kernel - 1), 1);
}

// size + before + after, the padded extent of one dimension.
inline int64_t checked_padded(const char* op, int64_t size, int64_t before, int64_t after) {
  return checked_add(op, "the padded input size", checked_add(op, "the padded input size", size,
                                                              before), after);
}

// The element count of `shape` as bytes of `itemsize` each, refused when it does not fit int64
// (PyTorch's "Storage size calculation overflowed").
inline int64_t checked_bytes(const char* op, const Shape& shape, int64_t itemsize) {
  int64_t n = itemsize;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      throw std::invalid_argument(concat(op, ": storage size calculation overflowed with sizes=",
                                         shape_str(shape)));
  return n;
}

// Bytes this process may allocate at most: the physical memory, or the address-space rlimit
// when that is lower (INT64_MAX where neither is known).
inline int64_t memory_limit() {
  int64_t limit = INT64_MAX;
#if defined(__unix__) || defined(__APPLE__)
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) limit = static_cast<int64_t>(pages) * page;
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY &&
      r.rlim_cur < static_cast<rlim_t>(limit))
    limit = static_cast<int64_t>(r.rlim_cur);
#endif
  return limit;
}

// A failed allocation, naming its size: pybind11 raises it as MemoryError with this message.
struct OutOfMemory : std::bad_alloc {
  explicit OutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

}  // namespace ember
