// Bindings for dropout: masks drawn in C++ from a seed the Python side takes from its generator.
#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>

#include "common.h"
#include "ember/dropout.h"

namespace ember::bind {

namespace {

DropoutParams dropout_params(const char* op, double p, uint64_t seed) {
  EMBER_CHECK_ARG(p >= 0 && p <= 1, op, ": dropout probability has to be between 0 and 1, but got ",
                  p);
  DropoutParams params;
  params.seed = seed;
  params.drop_threshold =
      static_cast<uint32_t>(std::min<long long>(std::llround(std::ldexp(p, 32)), 0xFFFFFFFFLL));
  params.scale = p == 1 ? 0.0 : 1.0 / (1.0 - p);
  return params;
}

py::array dropout_forward_py(const py::handle& x_h, double p, uint64_t seed) {
  constexpr const char* op = "dropout";
  const DropoutParams params = dropout_params(op, p, seed);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    auto y = empty<T>(shape_of(x)), mask = empty<T>(shape_of(x));
    {
      py::gil_scoped_release release;
      dropout_forward<T>(x.data(), y.mutable_data(), mask.mutable_data(), numel(x), params);
    }
    return py::make_tuple(y, mask);
  });
}

// Fills `mask` (a writable C-contiguous float array) in place.
void dropout_mask_py(const py::handle& mask_h, double p, uint64_t seed) {
  constexpr const char* op = "dropout_mask";
  const DropoutParams params = dropout_params(op, p, seed);
  py::array mask = as_array(op, "mask", mask_h);
  EMBER_CHECK_ARG(mask.writeable() && (mask.flags() & py::array::c_style), op,
                  ": mask must be a writable C-contiguous array, got shape ", shape_str(mask));
  dispatch_floating(op, mask, [&](auto t) {
    using T = decltype(t);
    T* data = static_cast<T*>(mask.mutable_data());
    const int64_t n = numel(mask);
    py::gil_scoped_release release;
    dropout_mask<T>(data, n, params);
  });
}

py::array dropout_backward_py(const py::handle& g_h, const py::handle& m_h) {
  constexpr const char* op = "dropout_backward";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h), mask = contiguous<T>(op, "mask", m_h);
    EMBER_CHECK(same_shape(g, mask), op, ": grad_output has shape ", shape_str(g),
                " but mask has shape ", shape_str(mask));
    auto gi = empty<T>(shape_of(g));
    {
      py::gil_scoped_release release;
      dropout_backward<T>(g.data(), mask.data(), gi.mutable_data(), numel(g));
    }
    return gi;
  });
}

}  // namespace

void bind_dropout(py::module_& m) {
  m.def("dropout_forward", &dropout_forward_py, py::arg("input"), py::arg("p"), py::arg("seed"),
        "(output, mask): mask holds 1/(1-p) where an element is kept and 0 where it is dropped.");
  m.def("dropout_mask", &dropout_mask_py, py::arg("mask"), py::arg("p"), py::arg("seed"));
  m.def("dropout_backward", &dropout_backward_py, py::arg("grad_output"), py::arg("mask"));
  m.def("philox4x32_10", &philox4x32_10, py::arg("counter"), py::arg("key"),
        "One Philox4x32-10 block, for known-answer tests of the dropout generator.");
}

}  // namespace ember::bind
