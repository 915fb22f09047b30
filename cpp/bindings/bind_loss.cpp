// Bindings for the loss functions: validation, reduction, and the backward scale.
#include <optional>

#include "common.h"
#include "ember/loss.h"

namespace ember::bind {

namespace {

Reduction parse_reduction(const char* op, int r) {
  EMBER_CHECK_ARG(r >= 0 && r <= 2, op, ": reduction must be 0 (none), 1 (mean) or 2 (sum), got ", r);
  return static_cast<Reduction>(r);
}

PointwiseLoss parse_pointwise(const std::string& kind) {
  if (kind == "mse_loss") return PointwiseLoss::mse;
  if (kind == "l1_loss") return PointwiseLoss::l1;
  if (kind == "huber_loss") return PointwiseLoss::huber;
  if (kind == "smooth_l1_loss") return PointwiseLoss::smooth_l1;
  if (kind == "binary_cross_entropy") return PointwiseLoss::bce;
  if (kind == "binary_cross_entropy_with_logits") return PointwiseLoss::bce_with_logits;
  throw std::invalid_argument("unknown pointwise loss '" + kind + "'");
}

// Reduces per-sample losses: none keeps them, sum adds them, mean divides the sum by `count`.
template <class T>
py::array reduce(const Array<T>& losses, Reduction r, double count) {
  if (r == Reduction::none) return losses;
  double total;
  {
    py::gil_scoped_release release;
    total = deterministic_sum<T>(losses.data(), numel(losses));
  }
  auto out = empty<T>({});
  out.mutable_data()[0] = T(r == Reduction::mean ? total / count : total);
  return out;
}

// Checks grad_output against the reduction; returns (stride, scale) for the backward kernels.
template <class T>
std::pair<int64_t, T> backward_scale(const char* op, const py::array& g, Reduction r,
                                     const Shape& unreduced, double count) {
  if (r == Reduction::none) {
    EMBER_CHECK(shape_of(g) == unreduced, op, ": grad_output has shape ", shape_str(g),
                " but the unreduced loss has shape ", ember::shape_str(unreduced));
    return {1, T(1)};
  }
  EMBER_CHECK(g.size() == 1, op, ": grad_output of a reduced loss must hold one value, got shape ",
              shape_str(g));
  return {0, r == Reduction::mean ? T(1.0 / count) : T(1)};
}

// Optional same-dtype array that must have `shape` exactly.
template <class T>
using Optional = std::optional<Array<T>>;

template <class T>
Optional<T> optional_like(const char* op, const char* name, const py::object& h, const Shape& shape,
                          const char* expected) {
  if (h.is_none()) return std::nullopt;
  auto a = contiguous<T>(op, name, h);
  EMBER_CHECK(shape_of(a) == shape, op, ": ", name, " must have shape ", ember::shape_str(shape),
              " (", expected, "), got ", shape_str(a));
  return a;
}

template <class T>
const T* data_or_null(const Optional<T>& a) {
  return a ? a->data() : nullptr;
}

py::array pointwise_forward_py(const std::string& kind, const py::handle& x_h,
                               const py::handle& t_h, const py::object& w_h,
                               const py::object& pw_h, double param, int reduction) {
  const char* op = kind.c_str();
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), tg = contiguous<T>(op, "target", t_h);
    EMBER_CHECK(same_shape(x, tg), op, ": input and target shapes differ: input ",
                shape_str(x), ", target ", shape_str(tg));
    auto w = optional_like<T>(op, "weight", w_h, shape_of(x), "broadcast to the input");
    auto pw = optional_like<T>(op, "pos_weight", pw_h, shape_of(x), "broadcast to the input");
    PointwiseLossArgs args{parse_pointwise(kind), param, data_or_null(w), data_or_null(pw)};
    auto losses = empty<T>(shape_of(x));
    {
      py::gil_scoped_release release;
      pointwise_loss_forward<T>(args, x.data(), tg.data(), losses.mutable_data(), numel(x));
    }
    return reduce<T>(losses, r, double(numel(x)));
  });
}

py::array pointwise_backward_py(const std::string& kind, const py::handle& g_h,
                                const py::handle& x_h, const py::handle& t_h,
                                const py::object& w_h, const py::object& pw_h, double param,
                                int reduction) {
  const std::string name = kind + "_backward";
  const char* op = name.c_str();
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    auto x = contiguous<T>(op, "input", x_h), tg = contiguous<T>(op, "target", t_h);
    EMBER_CHECK(same_shape(x, tg), op, ": input and target shapes differ: input ",
                shape_str(x), ", target ", shape_str(tg));
    auto w = optional_like<T>(op, "weight", w_h, shape_of(x), "broadcast to the input");
    auto pw = optional_like<T>(op, "pos_weight", pw_h, shape_of(x), "broadcast to the input");
    const auto [stride, scale] = backward_scale<T>(op, g, r, shape_of(x), double(numel(x)));
    PointwiseLossArgs args{parse_pointwise(kind), param, data_or_null(w), data_or_null(pw)};
    auto gi = empty<T>(shape_of(x));
    {
      py::gil_scoped_release release;
      pointwise_loss_backward<T>(args, g.data(), stride, scale, x.data(), tg.data(),
                                 gi.mutable_data(), numel(x));
    }
    return gi;
  });
}

// Validates logits/log-probs (n, c), class targets (n) and a class weight (c).
template <class T>
std::pair<int64_t, int64_t> class_dims(const char* op, const py::array& x,
                                       const Array<int64_t>& target, const Optional<T>& weight,
                                       int64_t ignore_index) {
  EMBER_CHECK(x.ndim() == 2, op, ": input must be (N, C), got shape ", shape_str(x));
  const int64_t n = x.shape(0), c = x.shape(1);
  EMBER_CHECK(target.ndim() == 1 && target.shape(0) == n, op, ": target must have shape (", n,
              ",) for input ", shape_str(x), ", got ", shape_str(target));
  if (weight)
    EMBER_CHECK(weight->ndim() == 1 && weight->shape(0) == c, op, ": weight must have shape (", c,
                ",) for ", c, " classes, got ", shape_str(*weight));
  const int64_t* y = target.data();
  for (int64_t i = 0; i < n; ++i)
    EMBER_CHECK_INDEX(y[i] == ignore_index || (y[i] >= 0 && y[i] < c), op, ": target ", y[i],
                      " at position ", i, " is out of range for ", c, " classes (input ",
                      shape_str(x), ", target ", shape_str(target), ")");
  return {n, c};
}

template <class T>
Optional<T> class_weight(const char* op, const py::object& w_h) {
  if (w_h.is_none()) return std::nullopt;
  return contiguous<T>(op, "weight", w_h);
}

py::tuple cross_entropy_forward_py(const py::handle& x_h, const py::handle& t_h,
                                   const py::object& w_h, int64_t ignore_index,
                                   double label_smoothing, int reduction) {
  const char* op = "cross_entropy";
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    auto target = contiguous_index(op, "target", t_h);
    auto w = class_weight<T>(op, w_h);
    const auto [n, c] = class_dims<T>(op, x, target, w, ignore_index);
    ClassLossArgs<T> args{data_or_null(w), ignore_index, label_smoothing};
    auto log_probs = empty<T>({n, c});
    auto losses = empty<T>({n}), weights = empty<T>({n});
    {
      py::gil_scoped_release release;
      cross_entropy_forward<T>(args, x.data(), target.data(), log_probs.mutable_data(),
                               losses.mutable_data(), weights.mutable_data(), n, c);
    }
    const double total_weight = deterministic_sum<T>(weights.data(), n);
    return py::make_tuple(reduce<T>(losses, r, total_weight), log_probs, total_weight);
  });
}

py::array cross_entropy_backward_py(const py::handle& g_h, const py::handle& lp_h,
                                    const py::handle& t_h, const py::object& w_h,
                                    int64_t ignore_index, double label_smoothing, int reduction,
                                    double total_weight) {
  const char* op = "cross_entropy_backward";
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "log_probs", lp_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto lp = contiguous<T>(op, "log_probs", lp_h), g = contiguous<T>(op, "grad_output", g_h);
    auto target = contiguous_index(op, "target", t_h);
    auto w = class_weight<T>(op, w_h);
    const auto [n, c] = class_dims<T>(op, lp, target, w, ignore_index);
    const auto [stride, scale] = backward_scale<T>(op, g, r, {n}, total_weight);
    ClassLossArgs<T> args{data_or_null(w), ignore_index, label_smoothing};
    auto gi = empty<T>({n, c});
    {
      py::gil_scoped_release release;
      cross_entropy_backward<T>(args, g.data(), stride, scale, lp.data(), target.data(),
                                gi.mutable_data(), n, c);
    }
    return gi;
  });
}

template <class T>
std::pair<int64_t, int64_t> prob_dims(const char* op, const py::array& x, const py::array& target,
                                      const Optional<T>& weight) {
  EMBER_CHECK(x.ndim() == 2, op, ": input must be (N, C), got shape ", shape_str(x));
  EMBER_CHECK(same_shape(target, x), op, ": probability target must have the input's "
              "shape ", shape_str(x), ", got ", shape_str(target));
  if (weight)
    EMBER_CHECK(weight->ndim() == 1 && weight->shape(0) == x.shape(1), op,
                ": weight must have shape (", x.shape(1), ",), got ", shape_str(*weight));
  return {x.shape(0), x.shape(1)};
}

py::tuple cross_entropy_probs_forward_py(const py::handle& x_h, const py::handle& t_h,
                                         const py::object& w_h, double label_smoothing,
                                         int reduction) {
  const char* op = "cross_entropy";
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), target = contiguous<T>(op, "target", t_h);
    auto w = class_weight<T>(op, w_h);
    const auto [n, c] = prob_dims<T>(op, x, target, w);
    ClassLossArgs<T> args{data_or_null(w), -100, label_smoothing};
    auto log_probs = empty<T>({n, c});
    auto losses = empty<T>({n});
    {
      py::gil_scoped_release release;
      cross_entropy_probs_forward<T>(args, x.data(), target.data(), log_probs.mutable_data(),
                                     losses.mutable_data(), n, c);
    }
    return py::make_tuple(reduce<T>(losses, r, double(n)), log_probs);
  });
}

py::array cross_entropy_probs_backward_py(const py::handle& g_h, const py::handle& lp_h,
                                          const py::handle& t_h, const py::object& w_h,
                                          double label_smoothing, int reduction) {
  const char* op = "cross_entropy_backward";
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "log_probs", lp_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto lp = contiguous<T>(op, "log_probs", lp_h), g = contiguous<T>(op, "grad_output", g_h);
    auto target = contiguous<T>(op, "target", t_h);
    auto w = class_weight<T>(op, w_h);
    const auto [n, c] = prob_dims<T>(op, lp, target, w);
    const auto [stride, scale] = backward_scale<T>(op, g, r, {n}, double(n));
    ClassLossArgs<T> args{data_or_null(w), -100, label_smoothing};
    auto gi = empty<T>({n, c});
    {
      py::gil_scoped_release release;
      cross_entropy_probs_backward<T>(args, g.data(), stride, scale, lp.data(), target.data(),
                                      gi.mutable_data(), n, c);
    }
    return gi;
  });
}

py::tuple nll_loss_forward_py(const py::handle& x_h, const py::handle& t_h, const py::object& w_h,
                              int64_t ignore_index, int reduction) {
  const char* op = "nll_loss";
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    auto target = contiguous_index(op, "target", t_h);
    auto w = class_weight<T>(op, w_h);
    const auto [n, c] = class_dims<T>(op, x, target, w, ignore_index);
    ClassLossArgs<T> args{data_or_null(w), ignore_index, 0.0};
    auto losses = empty<T>({n}), weights = empty<T>({n});
    nll_loss_forward<T>(args, x.data(), target.data(), losses.mutable_data(),
                        weights.mutable_data(), n, c);
    const double total_weight = deterministic_sum<T>(weights.data(), n);
    return py::make_tuple(reduce<T>(losses, r, total_weight), total_weight);
  });
}

py::array nll_loss_backward_py(const py::handle& g_h, const py::handle& x_h, const py::handle& t_h,
                               const py::object& w_h, int64_t ignore_index, int reduction,
                               double total_weight) {
  const char* op = "nll_loss_backward";
  const Reduction r = parse_reduction(op, reduction);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), g = contiguous<T>(op, "grad_output", g_h);
    auto target = contiguous_index(op, "target", t_h);
    auto w = class_weight<T>(op, w_h);
    const auto [n, c] = class_dims<T>(op, x, target, w, ignore_index);
    const auto [stride, scale] = backward_scale<T>(op, g, r, {n}, total_weight);
    ClassLossArgs<T> args{data_or_null(w), ignore_index, 0.0};
    auto gi = empty<T>({n, c});
    nll_loss_backward<T>(args, g.data(), stride, scale, target.data(), gi.mutable_data(), n, c);
    return gi;
  });
}

}  // namespace

void bind_loss(py::module_& m) {
  m.def("pointwise_loss_forward", &pointwise_forward_py, py::arg("kind"), py::arg("input"),
        py::arg("target"), py::arg("weight") = py::none(), py::arg("pos_weight") = py::none(),
        py::arg("param") = 0.0, py::arg("reduction") = 1);
  m.def("pointwise_loss_backward", &pointwise_backward_py, py::arg("kind"), py::arg("grad_output"),
        py::arg("input"), py::arg("target"), py::arg("weight") = py::none(),
        py::arg("pos_weight") = py::none(), py::arg("param") = 0.0, py::arg("reduction") = 1);
  m.def("cross_entropy_forward", &cross_entropy_forward_py, py::arg("input"), py::arg("target"),
        py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
        py::arg("label_smoothing") = 0.0, py::arg("reduction") = 1);
  m.def("cross_entropy_backward", &cross_entropy_backward_py, py::arg("grad_output"),
        py::arg("log_probs"), py::arg("target"), py::arg("weight") = py::none(),
        py::arg("ignore_index") = -100, py::arg("label_smoothing") = 0.0,
        py::arg("reduction") = 1, py::arg("total_weight") = 1.0);
  m.def("cross_entropy_probs_forward", &cross_entropy_probs_forward_py, py::arg("input"),
        py::arg("target"), py::arg("weight") = py::none(), py::arg("label_smoothing") = 0.0,
        py::arg("reduction") = 1);
  m.def("cross_entropy_probs_backward", &cross_entropy_probs_backward_py, py::arg("grad_output"),
        py::arg("log_probs"), py::arg("target"), py::arg("weight") = py::none(),
        py::arg("label_smoothing") = 0.0, py::arg("reduction") = 1);
  m.def("nll_loss_forward", &nll_loss_forward_py, py::arg("input"), py::arg("target"),
        py::arg("weight") = py::none(), py::arg("ignore_index") = -100, py::arg("reduction") = 1);
  m.def("nll_loss_backward", &nll_loss_backward_py, py::arg("grad_output"), py::arg("input"),
        py::arg("target"), py::arg("weight") = py::none(), py::arg("ignore_index") = -100,
        py::arg("reduction") = 1, py::arg("total_weight") = 1.0);
}

}  // namespace ember::bind
