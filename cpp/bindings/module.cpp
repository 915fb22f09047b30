// The `ember._core` extension: registers every op family's bindings.
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
}  // namespace ember::bind

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  m.doc() = "ember's C++ kernels. Private: use the ember package.";
  py::register_exception<ember::ShapeError>(m, "ShapeError", PyExc_ValueError);
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
}
