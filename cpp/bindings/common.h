// Shared binding helpers: dtype dispatch, contiguous views, output allocation, shape text.
// Bindings validate everything here, before a kernel runs; kernels never throw.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <string>
#include <utility>

#include "ember/check.h"
#include "ember/checked.h"

namespace ember::bind {

namespace py = pybind11;

template <class T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

inline Shape shape_of(const py::array& a) { return Shape(a.shape(), a.shape() + a.ndim()); }
inline std::string shape_str(const py::array& a) { return ember::shape_str(shape_of(a)); }
inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

inline py::array as_array(const char* op, const char* name, const py::handle& h) {
  if (!py::isinstance<py::array>(h))
    throw py::type_error(concat(op, ": ", name, " must be a numpy array, got ",
                                py::str(py::type::of(h)).cast<std::string>()));
  return py::reinterpret_borrow<py::array>(h);
}

// Calls f(T{}) with T = float or double according to `a`'s dtype; other dtypes are a TypeError.
template <class F>
decltype(auto) dispatch_floating(const char* op, const py::array& a, F&& f) {
  const char kind = a.dtype().kind();
  const auto size = a.dtype().itemsize();
  if (kind == 'f' && size == 4) return f(float{});
  if (kind == 'f' && size == 8) return f(double{});
  throw py::type_error(concat(op, ": expected a float32 or float64 array, got dtype ", dtype_str(a),
                              " with shape ", shape_str(a)));
}

// A C-contiguous view of `h` with element type T: zero-copy when it already is, a copy when it
// is strided (never misread). The dtype must already be T: mixing float32 and float64 is an error.
template <class T>
Array<T> contiguous(const char* op, const char* name, const py::handle& h) {
  py::array a = as_array(op, name, h);
  if (!a.dtype().is(py::dtype::of<T>()) &&
      !(a.dtype().kind() == 'f' && a.dtype().itemsize() == sizeof(T)))
    throw py::type_error(concat(op, ": ", name, " has dtype ", dtype_str(a), " but expected ",
                                py::str(py::dtype::of<T>()).cast<std::string>(),
                                " like the other arguments (shape ", shape_str(a), ")"));
  if (Array<T>::check_(a)) return py::reinterpret_borrow<Array<T>>(a);  // already is: no call
  return Array<T>::ensure(a);
}

// Indices (class labels, token ids) as contiguous int64.
inline Array<int64_t> contiguous_index(const char* op, const char* name, const py::handle& h) {
  py::array a = as_array(op, name, h);
  const char kind = a.dtype().kind();
  if (kind != 'i' && kind != 'u')
    throw py::type_error(concat(op, ": ", name, " must hold integers, got dtype ", dtype_str(a),
                                " with shape ", shape_str(a)));
  return Array<int64_t>::ensure(a);
}

// Outputs live in 64-byte aligned storage. Eigen computes the leading elements of an unaligned
// destination on its scalar path (no FMA), so with NumPy's 16-byte alignment the same inputs
// gave results differing in the last bit from call to call, depending on the buffer address.
// The block comes from plain malloc, aligned by hand with the original pointer stored just before
// it: glibc's aligned_alloc splits chunks and fragments the heap, and on the small arrays of small
// models its frees and consolidations were a fifth of a layer's call. The result is an Array<T>
// because assigning another array_t type to one goes through PyArray_FromAny.
template <class T>
Array<T> empty(const Shape& shape) {
  constexpr uintptr_t kAlign = 64;
  const int64_t bytes = checked_bytes("ember", shape, sizeof(T));
  // Larger than this process may hold: refused without asking malloc, which with overcommit
  // may say yes and leave the kernel to fault the pages in until the OOM killer comes.
  const bool too_large = bytes > (int64_t{1} << 30) && bytes > memory_limit();
  void* raw = too_large ? nullptr
                        : std::malloc(std::max<size_t>(static_cast<size_t>(bytes), sizeof(T)) +
                                      kAlign);
  if (!raw)
    throw OutOfMemory(concat("ember: cannot allocate ", bytes, " bytes for an array of shape ",
                             ember::shape_str(shape)));
  // malloc aligns to 16 bytes, so there are 16 to 64 bytes before `data`: room for `raw`.
  void* data = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(raw) + kAlign) & ~(kAlign - 1));
  static_cast<void**>(data)[-1] = raw;
  py::capsule owner(data, [](void* p) { std::free(static_cast<void**>(p)[-1]); });
  return Array<T>(std::vector<py::ssize_t>(shape.begin(), shape.end()), static_cast<T*>(data),
                  owner);
}

// An Array<T> that holds nothing yet, for an optional argument or output: array_t's default
// constructor allocates an empty NumPy array, a cost small layers feel on every call.
template <class T>
Array<T> no_array() {
  return py::reinterpret_steal<Array<T>>(py::handle());
}

// shape == dims, without building a Shape (a heap allocation) for either side.
inline bool has_shape(const py::array& a, std::initializer_list<int64_t> dims) {
  return a.ndim() == static_cast<py::ssize_t>(dims.size()) &&
         std::equal(dims.begin(), dims.end(), a.shape());
}

inline bool same_shape(const py::array& a, const py::array& b) {
  return a.ndim() == b.ndim() && std::equal(a.shape(), a.shape() + a.ndim(), b.shape());
}

inline int64_t numel(const py::array& a) { return static_cast<int64_t>(a.size()); }

}  // namespace ember::bind
