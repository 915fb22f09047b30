#include "ember/scratch.h"

#include <cstdio>
#include <cstdlib>
#include <new>

namespace ember {

namespace {
struct ThreadBuffer {
  char* data = nullptr;
  size_t capacity = 0;
  bool in_use = false;
  ~ThreadBuffer() { std::free(data); }
};
thread_local ThreadBuffer t_buffer;

char* allocate(size_t bytes) {
  void* p = std::aligned_alloc(64, ScratchArena::round_up(bytes ? bytes : 1));
  if (!p) throw std::bad_alloc();
  return static_cast<char*>(p);
}
}  // namespace

ScratchArena::ScratchArena(size_t bytes) : size_(bytes) {
  ThreadBuffer& t = t_buffer;
  if (t.in_use || bytes > kKeepBytes) {
    base_ = allocate(bytes);
    owns_ = true;
    return;
  }
  if (t.capacity < bytes) {
    std::free(t.data);
    t.data = nullptr;
    t.capacity = 0;
    t.data = allocate(bytes);
    t.capacity = bytes;
  }
  t.in_use = true;
  base_ = t.data;
}

void ScratchArena::overflow() {
  std::fputs("ember: internal error: a kernel took more scratch memory than it reserved\n", stderr);
  std::abort();
}

ScratchArena::~ScratchArena() {
  if (owns_)
    std::free(base_);
  else
    t_buffer.in_use = false;
}

}  // namespace ember
