// Scratch memory for a kernel's large temporaries, reused from call to call by each thread.
// Fresh buffers of several MB are new pages each time: the OS faults in and zeroes every page on
// first touch, which cost about a sixth of an LSTM training step on a 2-core VM. Kept buffers
// never return to the OS until the thread ends, so only sizes up to kKeepBytes are kept.
#pragma once
#include <cstddef>

namespace ember {

class ScratchArena {
 public:
  static constexpr size_t kKeepBytes = size_t(256) << 20;

  // The calling thread's buffer, grown to `bytes` (its contents are not zeroed). A nested arena
  // on the same thread, or one larger than kKeepBytes, gets its own temporary allocation.
  explicit ScratchArena(size_t bytes);
  ~ScratchArena();
  ScratchArena(const ScratchArena&) = delete;
  ScratchArena& operator=(const ScratchArena&) = delete;

  // The next `count` elements, 64-byte aligned. The constructor's size must cover the requests,
  // each counted as bytes<T>(count); a request beyond it is a bug in the kernel and aborts.
  template <class T>
  T* take(size_t count) {
    T* p = reinterpret_cast<T*>(base_ + used_);
    used_ += bytes<T>(count);
    if (used_ > size_) overflow();
    return p;
  }

  static constexpr size_t round_up(size_t bytes) { return (bytes + 63) / 64 * 64; }
  template <class T>
  static constexpr size_t bytes(size_t count) { return round_up(count * sizeof(T)); }

 private:
  [[noreturn]] static void overflow();
  char* base_ = nullptr;
  size_t used_ = 0, size_ = 0;
  bool owns_ = false;  // a temporary allocation, freed by the destructor
};

}  // namespace ember
