// Bindings for matrix products and the linear layer.
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
    Array<T> ga, gb;
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

py::array linear_forward_py(const py::handle& x_h, const py::handle& w_h, const py::object& b_h) {
  const char* op = "linear";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), w = contiguous<T>(op, "weight", w_h);
    Array<T> b;
    if (!b_h.is_none()) b = contiguous<T>(op, "bias", b_h);
    const auto [n, in, out] = linear_dims(op, x, w, b_h.is_none() ? nullptr : &b);
    auto y = empty<T>({n, out});
    const T* bias = b_h.is_none() ? nullptr : b.data();
    {
      py::gil_scoped_release release;
      linear_forward<T>(x.data(), w.data(), bias, y.mutable_data(), n, in, out);
    }
    return y;
  });
}

// Returns (grad_input, grad_weight, grad_bias), computing only the requested ones.
py::tuple linear_backward_py(const py::handle& g_h, const py::handle& x_h, const py::handle& w_h,
                             bool need_input, bool need_weight, bool need_bias) {
  const char* op = "linear_backward";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    auto x = contiguous<T>(op, "input", x_h), w = contiguous<T>(op, "weight", w_h);
    const auto [n, in, out] = linear_dims(op, x, w, nullptr);
    EMBER_CHECK(shape_of(g) == Shape({n, out}), op, ": grad_output has shape ", shape_str(g),
                ", expected (", n, ", ", out, ")");
    Array<T> gi_a, gw_a, gb_a;
    if (need_input) gi_a = empty<T>({n, in});
    if (need_weight) gw_a = empty<T>({out, in});
    if (need_bias) gb_a = empty<T>({out});
    {
      py::gil_scoped_release release;
      if (need_input) linear_backward_input<T>(g.data(), w.data(), gi_a.mutable_data(), n, in, out);
      if (need_weight) linear_backward_weight<T>(g.data(), x.data(), gw_a.mutable_data(), n, in, out);
      if (need_bias) linear_backward_bias<T>(g.data(), gb_a.mutable_data(), n, out);
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
  m.def("linear_forward", &linear_forward_py, py::arg("input"), py::arg("weight"),
        py::arg("bias") = py::none(), "input @ weight.T + bias for 2-D input.");
  m.def("linear_backward", &linear_backward_py, py::arg("grad_output"), py::arg("input"),
        py::arg("weight"), py::arg("need_input") = true, py::arg("need_weight") = true,
        py::arg("need_bias") = true);
}

}  // namespace ember::bind
