// Bindings for elementwise activations and the softmax family.
#include "common.h"
#include "ember/activation.h"

namespace ember::bind {

namespace {

py::array activation_forward_py(const char* op, Activation kind, const py::handle& x_h,
                                ActivationParams p) {
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    auto y = empty<T>(shape_of(x));
    {
      py::gil_scoped_release release;
      activation_forward<T>(kind, x.data(), y.mutable_data(), numel(x), p);
    }
    return y;
  });
}

py::array activation_backward_py(const char* op, Activation kind, const py::handle& g_h,
                                 const py::handle& s_h, ActivationParams p) {
  const char* saved_name = backward_uses_output(kind) ? "output" : "input";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    auto s = contiguous<T>(op, saved_name, s_h);
    EMBER_CHECK(same_shape(g, s), op, ": grad_output has shape ", shape_str(g), " but ",
                saved_name, " has shape ", shape_str(s));
    auto gi = empty<T>(shape_of(g));
    {
      py::gil_scoped_release release;
      activation_backward<T>(kind, g.data(), s.data(), gi.mutable_data(), numel(g), p);
    }
    return gi;
  });
}

// Splits `shape` around `dim` (negative counts from the end) into outer * size * inner.
std::array<int64_t, 3> split_at_dim(const char* op, const py::array& a, int64_t dim) {
  const int64_t nd = a.ndim();
  EMBER_CHECK(nd >= 1, op, ": expected at least 1 dimension, got shape ", shape_str(a));
  EMBER_CHECK_INDEX(dim >= -nd && dim < nd, op, ": Dimension out of range (expected to be in "
                    "range of [", -nd, ", ", nd - 1, "], but got ", dim, ") for shape ",
                    shape_str(a));
  if (dim < 0) dim += nd;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= a.shape(i);
  for (int64_t i = dim + 1; i < nd; ++i) inner *= a.shape(i);
  return {outer, a.shape(dim), inner};
}

template <void (*Kernel)(const float*, float*, int64_t, int64_t, int64_t),
          void (*KernelD)(const double*, double*, int64_t, int64_t, int64_t)>
py::array softmax_like_forward(const char* op, const py::handle& x_h, int64_t dim) {
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    const auto [outer, size, inner] = split_at_dim(op, x, dim);
    auto y = empty<T>(shape_of(x));
    {
      py::gil_scoped_release release;
      if constexpr (std::is_same_v<T, float>) Kernel(x.data(), y.mutable_data(), outer, size, inner);
      else KernelD(x.data(), y.mutable_data(), outer, size, inner);
    }
    return y;
  });
}

template <void (*Kernel)(const float*, const float*, float*, int64_t, int64_t, int64_t),
          void (*KernelD)(const double*, const double*, double*, int64_t, int64_t, int64_t)>
py::array softmax_like_backward(const char* op, const py::handle& g_h, const py::handle& y_h,
                                int64_t dim) {
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h), y = contiguous<T>(op, "output", y_h);
    EMBER_CHECK(same_shape(g, y), op, ": grad_output has shape ", shape_str(g),
                " but output has shape ", shape_str(y));
    const auto [outer, size, inner] = split_at_dim(op, g, dim);
    auto gi = empty<T>(shape_of(g));
    {
      py::gil_scoped_release release;
      if constexpr (std::is_same_v<T, float>)
        Kernel(g.data(), y.data(), gi.mutable_data(), outer, size, inner);
      else
        KernelD(g.data(), y.data(), gi.mutable_data(), outer, size, inner);
    }
    return gi;
  });
}

void def_activation(py::module_& m, const char* fwd, const char* bwd,
                    Activation kind) {
  m.def(fwd, [fwd, kind](const py::handle& x, double alpha, double beta) {
    return activation_forward_py(fwd, kind, x, {alpha, beta});
  }, py::arg("input"), py::arg("alpha") = 0.0, py::arg("beta") = 0.0);
  m.def(bwd, [bwd, kind](const py::handle& g, const py::handle& saved, double alpha, double beta) {
    return activation_backward_py(bwd, kind, g, saved, {alpha, beta});
  }, py::arg("grad_output"), py::arg(backward_uses_output(kind) ? "output" : "input"),
     py::arg("alpha") = 0.0, py::arg("beta") = 0.0);
}

}  // namespace

void bind_activation(py::module_& m) {
  // alpha/beta: leaky_relu(alpha=negative_slope), elu(alpha), softplus(alpha=beta, beta=threshold).
  def_activation(m, "relu_forward", "relu_backward", Activation::relu);
  def_activation(m, "leaky_relu_forward", "leaky_relu_backward", Activation::leaky_relu);
  def_activation(m, "elu_forward", "elu_backward", Activation::elu);
  def_activation(m, "gelu_forward", "gelu_backward", Activation::gelu);
  def_activation(m, "gelu_tanh_forward", "gelu_tanh_backward", Activation::gelu_tanh);
  def_activation(m, "sigmoid_forward", "sigmoid_backward", Activation::sigmoid);
  def_activation(m, "tanh_forward", "tanh_backward", Activation::tanh);
  def_activation(m, "softplus_forward", "softplus_backward", Activation::softplus);

  m.def("softmax_forward", [](const py::handle& x, int64_t dim) {
    return softmax_like_forward<&softmax_forward<float>, &softmax_forward<double>>("softmax", x, dim);
  }, py::arg("input"), py::arg("dim"));
  m.def("log_softmax_forward", [](const py::handle& x, int64_t dim) {
    return softmax_like_forward<&log_softmax_forward<float>, &log_softmax_forward<double>>(
        "log_softmax", x, dim);
  }, py::arg("input"), py::arg("dim"));
  m.def("softmax_backward", [](const py::handle& g, const py::handle& y, int64_t dim) {
    return softmax_like_backward<&softmax_backward<float>, &softmax_backward<double>>(
        "softmax_backward", g, y, dim);
  }, py::arg("grad_output"), py::arg("output"), py::arg("dim"));
  m.def("log_softmax_backward", [](const py::handle& g, const py::handle& y, int64_t dim) {
    return softmax_like_backward<&log_softmax_backward<float>, &log_softmax_backward<double>>(
        "log_softmax_backward", g, y, dim);
  }, py::arg("grad_output"), py::arg("output"), py::arg("dim"));
}

}  // namespace ember::bind
