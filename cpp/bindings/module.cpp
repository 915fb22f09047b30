// The kernel extension `ember._core_<level>` (one per instruction-set level, all from these
// sources; ember/_core.py loads one): registers every op family's bindings.
#include <Eigen/Core>

#include "common.h"
#include "ember/parallel.h"

namespace ember::bind {
void bind_dense(py::module_& m);
void bind_activation(py::module_& m);
void bind_loss(py::module_& m);
void bind_optim(py::module_& m);
void bind_conv(py::module_& m);
void bind_pool(py::module_& m);
void bind_norm(py::module_& m);
void bind_rnn(py::module_& m);
void bind_dropout(py::module_& m);
}  // namespace ember::bind

namespace {

// What this module was compiled with, for ember.show_config().
pybind11::dict build_info() {
  pybind11::dict info;
  info["isa"] = EMBER_ISA_LEVEL;
#if defined(__GNUC__) && !defined(__clang__)
  info["compiler"] = "GCC " __VERSION__;
#else
  info["compiler"] = __VERSION__;  // clang's already names the compiler
#endif
  info["flags"] = EMBER_COMPILE_FLAGS;
  info["eigen"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                  "." + std::to_string(EIGEN_MINOR_VERSION);
  info["eigen_simd"] = Eigen::SimdInstructionSetsInUse();
  info["openmp"] = _OPENMP;  // the spec date, yyyymm
  return info;
}

}  // namespace

PYBIND11_MODULE(EMBER_MODULE_NAME, m) {
  namespace py = pybind11;
  m.doc() = "ember's C++ kernels. Private: use the ember package.";
  m.def("build_info", &build_info);
  // Both bases: ember's own tests and Keras-style code catch ValueError, PyTorch code catches
  // RuntimeError for shape mismatches.
  py::register_exception<ember::ShapeError>(
      m, "ShapeError",
      py::make_tuple(py::handle(PyExc_ValueError), py::handle(PyExc_RuntimeError)));
  py::register_exception<ember::IndexOutOfRange>(
      m, "IndexOutOfRangeError",
      py::make_tuple(py::handle(PyExc_IndexError), py::handle(PyExc_ValueError)));
  m.def("get_num_threads", &ember::get_num_threads);
  m.def("set_num_threads", [](int n) {
    EMBER_CHECK_ARG(n >= 1, "set_num_threads: expected a positive number of threads, got ", n);
    ember::set_num_threads(n);
  }, py::arg("n"));
  ember::set_num_threads(ember::get_num_threads());  // Eigen and OpenMP agree from the start
  ember::bind::bind_dense(m);
  ember::bind::bind_activation(m);
  ember::bind::bind_loss(m);
  ember::bind::bind_optim(m);
  ember::bind::bind_conv(m);
  ember::bind::bind_pool(m);
  ember::bind::bind_norm(m);
  ember::bind::bind_rnn(m);
  ember::bind::bind_dropout(m);
}
