// Bindings for matrix products and the linear layer.
#include <string>
#include <vector>

#include "common.h"
#include "ember/dense.h"

namespace ember::bind {

namespace {

// Batched operands are (batch, m, k) and (batch, k, n), or 2-D without the batch axis.
struct MatmulDims {
  int64_t batch, m, k, n;
};

MatmulDims matmul_dims(const char* op, const py::array& a, const py::array& b) {
  EMBER_CHECK(a.ndim() == b.ndim() && (a.ndim() == 2 || a.ndim() == 3), op,
              ": expected two 2-D or two 3-D arrays, got shapes ", shape_str(a), " and ",
              shape_str(b));
  const int d = a.ndim() - 2;
  const int64_t batch = d ? a.shape(0) : 1;
  EMBER_CHECK(!d || b.shape(0) == batch, op, ": batch sizes differ: ", shape_str(a), " and ",
              shape_str(b));
  EMBER_CHECK(a.shape(d + 1) == b.shape(d), op, ": inner dimensions differ: ", shape_str(a), " @ ",
              shape_str(b));
  return {batch, a.shape(d), a.shape(d + 1), b.shape(d + 1)};
}

Shape with_batch(const py::array& like, int64_t r, int64_t c) {
  if (like.ndim() == 3) return {like.shape(0), r, c};
  return {r, c};
}

py::array matmul_forward_py(const py::handle& a_h, const py::handle& b_h) {
  const char* op = "matmul";
  py::array a0 = as_array(op, "input", a_h);
  return dispatch_floating(op, a0, [&](auto t) -> py::array {
    using T = decltype(t);
    auto a = contiguous<T>(op, "input", a_h), b = contiguous<T>(op, "other", b_h);
    const auto d = matmul_dims(op, a, b);
    auto c = empty<T>(with_batch(a, d.m, d.n));
    {
      py::gil_scoped_release release;
      matmul_forward<T>(a.data(), b.data(), c.mutable_data(), d.batch, d.m, d.k, d.n);
    }
    return c;
  });
}

py::tuple matmul_backward_py(const py::handle& g_h, const py::handle& a_h, const py::handle& b_h,
                             bool need_a, bool need_b) {
  const char* op = "matmul_backward";
  py::array g0 = as_array(op, "grad_output", g_h);
  return dispatch_floating(op, g0, [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    auto a = contiguous<T>(op, "input", a_h), b = contiguous<T>(op, "other", b_h);
    const auto d = matmul_dims(op, a, b);
    EMBER_CHECK(shape_of(g) == with_batch(a, d.m, d.n), op, ": grad_output has shape ",
                shape_str(g), " but the product of ", shape_str(a), " and ", shape_str(b),
                " has shape ", ember::shape_str(with_batch(a, d.m, d.n)));
    auto ga = no_array<T>(), gb = no_array<T>();
    if (need_a) ga = empty<T>(shape_of(a));
    if (need_b) gb = empty<T>(shape_of(b));
    {
      py::gil_scoped_release release;
      if (need_a) matmul_backward_a<T>(g.data(), b.data(), ga.mutable_data(), d.batch, d.m, d.k, d.n);
      if (need_b) matmul_backward_b<T>(g.data(), a.data(), gb.mutable_data(), d.batch, d.m, d.k, d.n);
    }
    return py::make_tuple(need_a ? py::object(ga) : py::none(), need_b ? py::object(gb) : py::none());
  });
}

// Validates (input (n, in), weight (out, in), bias (out) or None); returns {n, in, out}.
std::array<int64_t, 3> linear_dims(const char* op, const py::array& x, const py::array& w,
                                   const py::array* b) {
  EMBER_CHECK(x.ndim() == 2 && w.ndim() == 2, op, ": expected input (N, in_features) and weight "
              "(out_features, in_features), got input ", shape_str(x), " and weight ", shape_str(w));
  EMBER_CHECK(x.shape(1) == w.shape(1), op, ": input has ", x.shape(1),
              " features but weight expects ", w.shape(1), " (input ", shape_str(x), ", weight ",
              shape_str(w), ")");
  if (b)
    EMBER_CHECK(b->ndim() == 1 && b->shape(0) == w.shape(0), op, ": bias must have shape (",
                w.shape(0), ",) for weight ", shape_str(w), ", got ", shape_str(*b));
  return {x.shape(0), x.shape(1), w.shape(0)};
}

// The activation a fused Linear layer applies, by name: one whose derivative its output gives.
Activation fused_activation(const char* op, const std::string& name) {
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "tanh") return Activation::tanh;
  throw std::invalid_argument(concat(op, ": activation must be 'relu', 'sigmoid' or 'tanh', got '",
                                     name, "'"));
}

// input @ weight.T + bias, followed by the activation `act` when it is not null.
py::array linear_forward_impl(const char* op, const py::handle& x_h, const py::handle& w_h,
                              const py::object& b_h, const Activation* act) {
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), w = contiguous<T>(op, "weight", w_h);
    auto b = no_array<T>();
    if (!b_h.is_none()) b = contiguous<T>(op, "bias", b_h);
    const auto [n, in, out] = linear_dims(op, x, w, b_h.is_none() ? nullptr : &b);
    auto y = empty<T>({n, out});
    const T* bias = b_h.is_none() ? nullptr : b.data();
    {
      py::gil_scoped_release release;
      if (act) linear_activation_forward<T>(*act, x.data(), w.data(), bias, y.mutable_data(), n, in, out);
      else linear_forward<T>(x.data(), w.data(), bias, y.mutable_data(), n, in, out);
    }
    return y;
  });
}

// Returns (grad_input, grad_weight, grad_bias), computing only the requested ones. With an
// activation, grad_output is the gradient of its output `y_h` (the fused layer's output).
py::tuple linear_backward_impl(const char* op, const py::handle& g_h, const py::handle& x_h,
                               const py::handle& w_h, const py::handle* y_h, const Activation* act,
                               bool need_input, bool need_weight, bool need_bias) {
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    auto x = contiguous<T>(op, "input", x_h), w = contiguous<T>(op, "weight", w_h);
    const auto [n, in, out] = linear_dims(op, x, w, nullptr);
    EMBER_CHECK(has_shape(g, {n, out}), op, ": grad_output has shape ", shape_str(g),
                ", expected (", n, ", ", out, ")");
    auto y = no_array<T>();
    std::vector<T> grad_pre;
    if (act) {
      y = contiguous<T>(op, "output", *y_h);
      EMBER_CHECK(has_shape(y, {n, out}), op, ": output has shape ", shape_str(y),
                  ", expected (", n, ", ", out, ")");
      grad_pre.resize(static_cast<size_t>(n * out));
    }
    auto gi_a = no_array<T>(), gw_a = no_array<T>(), gb_a = no_array<T>();
    if (need_input) gi_a = empty<T>({n, in});
    if (need_weight) gw_a = empty<T>({out, in});
    if (need_bias) gb_a = empty<T>({out});
    T* gi = need_input ? gi_a.mutable_data() : nullptr;
    T* gw = need_weight ? gw_a.mutable_data() : nullptr;
    T* gb = need_bias ? gb_a.mutable_data() : nullptr;
    {
      py::gil_scoped_release release;
      if (act) {
        linear_activation_backward<T>(*act, g.data(), x.data(), w.data(), y.data(),
                                      grad_pre.data(), gi, gw, gb, n, in, out);
      } else {
        if (gi) linear_backward_input<T>(g.data(), w.data(), gi, n, in, out);
        if (gw) linear_backward_weight<T>(g.data(), x.data(), gw, n, in, out);
        if (gb) linear_backward_bias<T>(g.data(), gb, n, out);
      }
    }
    auto or_none = [](bool need, const Array<T>& a) { return need ? py::object(a) : py::none(); };
    return py::make_tuple(or_none(need_input, gi_a), or_none(need_weight, gw_a),
                          or_none(need_bias, gb_a));
  });
}

}  // namespace

void bind_dense(py::module_& m) {
  m.def("matmul_forward", &matmul_forward_py, py::arg("input"), py::arg("other"),
        "Batched matrix product of two 2-D or 3-D float arrays.");
  m.def("matmul_backward", &matmul_backward_py, py::arg("grad_output"), py::arg("input"),
        py::arg("other"), py::arg("need_input") = true, py::arg("need_other") = true);
  m.def("linear_forward", [](const py::handle& x, const py::handle& w, const py::object& b) {
    return linear_forward_impl("linear", x, w, b, nullptr);
  }, py::arg("input"), py::arg("weight"), py::arg("bias") = py::none(),
     "input @ weight.T + bias for 2-D input.");
  m.def("linear_backward", [](const py::handle& g, const py::handle& x, const py::handle& w,
                              bool need_input, bool need_weight, bool need_bias) {
    return linear_backward_impl("linear_backward", g, x, w, nullptr, nullptr, need_input,
                                need_weight, need_bias);
  }, py::arg("grad_output"), py::arg("input"), py::arg("weight"), py::arg("need_input") = true,
     py::arg("need_weight") = true, py::arg("need_bias") = true);
  m.def("linear_activation_forward", [](const py::handle& x, const py::handle& w,
                                        const py::object& b, const std::string& activation) {
    const char* op = "linear_activation";
    const Activation act = fused_activation(op, activation);
    return linear_forward_impl(op, x, w, b, &act);
  }, py::arg("input"), py::arg("weight"), py::arg("bias"), py::arg("activation"),
     "activation(input @ weight.T + bias) for 2-D input; activation is relu, sigmoid or tanh.");
  m.def("linear_activation_backward", [](const py::handle& g, const py::handle& x,
                                         const py::handle& w, const py::handle& y,
                                         const std::string& activation, bool need_input,
                                         bool need_weight, bool need_bias) {
    const char* op = "linear_activation_backward";
    const Activation act = fused_activation(op, activation);
    return linear_backward_impl(op, g, x, w, &y, &act, need_input, need_weight, need_bias);
  }, py::arg("grad_output"), py::arg("input"), py::arg("weight"), py::arg("output"),
     py::arg("activation"), py::arg("need_input") = true, py::arg("need_weight") = true,
     py::arg("need_bias") = true);
}

}  // namespace ember::bind
