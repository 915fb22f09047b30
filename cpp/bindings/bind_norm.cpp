// Bindings for batch and layer normalization.
#include <optional>

#include "common.h"
#include "ember/norm.h"

namespace ember::bind {

namespace {

// (N, C, *) or, channels_last, (N, *, C) as (n, c, s).
ChannelShape channel_shape(const char* op, const py::array& x, bool channels_last) {
  EMBER_CHECK(x.ndim() >= 2, op, ": expected an input with at least 2 dimensions (N, C, ...), "
              "got shape ", shape_str(x));
  const int c_axis = channels_last ? x.ndim() - 1 : 1;
  int64_t positions = 1;  // the product of every axis but the batch and channel axes
  for (int d = 1; d < x.ndim(); ++d)
    if (d != c_axis) positions *= x.shape(d);
  return {x.shape(0), x.shape(c_axis), positions, channels_last};
}

template <class T>
std::optional<Array<T>> per_channel(const char* op, const char* name, const py::object& h,
                                    int64_t c) {
  if (h.is_none()) return std::nullopt;
  auto a = contiguous<T>(op, name, h);
  EMBER_CHECK(a.ndim() == 1 && a.shape(0) == c, op, ": ", name, " must have shape (", c,
              ",), got ", shape_str(a));
  return a;
}

template <class T>
const T* ptr(const std::optional<Array<T>>& a) {
  return a ? a->data() : nullptr;
}

py::tuple batch_norm_forward_train_py(const py::handle& x_h, const py::object& w_h,
                                      const py::object& b_h, double eps, bool channels_last,
                                      bool fuse_relu) {
  const char* op = "batch_norm";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    const ChannelShape s = channel_shape(op, x, channels_last);
    EMBER_CHECK_ARG(eps > 0, op, ": eps must be positive, got ", eps);
    auto w = per_channel<T>(op, "weight", w_h, s.c), b = per_channel<T>(op, "bias", b_h, s.c);
    auto y = empty<T>(shape_of(x));
    auto mean = empty<T>({s.c}), var = empty<T>({s.c});
    {
      py::gil_scoped_release release;
      batch_norm_forward_train<T>(s, x.data(), ptr(w), ptr(b), eps, fuse_relu, y.mutable_data(),
                                  mean.mutable_data(), var.mutable_data());
    }
    return py::make_tuple(y, mean, var);
  });
}

py::array batch_norm_forward_eval_py(const py::handle& x_h, const py::handle& mean_h,
                                     const py::handle& var_h, const py::object& w_h,
                                     const py::object& b_h, double eps, bool channels_last,
                                     bool fuse_relu) {
  const char* op = "batch_norm";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    const ChannelShape s = channel_shape(op, x, channels_last);
    auto mean = per_channel<T>(op, "running_mean", mean_h.cast<py::object>(), s.c);
    auto var = per_channel<T>(op, "running_var", var_h.cast<py::object>(), s.c);
    EMBER_CHECK_ARG(mean && var, op, ": eval mode needs running_mean and running_var");
    auto w = per_channel<T>(op, "weight", w_h, s.c), b = per_channel<T>(op, "bias", b_h, s.c);
    auto y = empty<T>(shape_of(x));
    {
      py::gil_scoped_release release;
      batch_norm_forward_eval<T>(s, x.data(), ptr(mean), ptr(var), ptr(w), ptr(b), eps,
                                 fuse_relu, y.mutable_data());
    }
    return y;
  });
}

py::tuple batch_norm_backward_py(const py::handle& g_h, const py::handle& x_h,
                                 const py::handle& mean_h, const py::handle& invstd_h,
                                 const py::object& w_h, bool training, bool channels_last,
                                 bool need_input, bool need_weight, bool need_bias,
                                 const py::object& relu_output_h) {
  const char* op = "batch_norm_backward";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), g = contiguous<T>(op, "grad_output", g_h);
    EMBER_CHECK(shape_of(g) == shape_of(x), op, ": grad_output has shape ", shape_str(g),
                " but input has shape ", shape_str(x));
    const ChannelShape s = channel_shape(op, x, channels_last);
    auto mean = per_channel<T>(op, "mean", mean_h.cast<py::object>(), s.c);
    auto invstd = per_channel<T>(op, "invstd", invstd_h.cast<py::object>(), s.c);
    EMBER_CHECK_ARG(mean && invstd, op, ": mean and invstd are required");
    auto w = per_channel<T>(op, "weight", w_h, s.c);
    std::optional<Array<T>> relu_output;
    if (!relu_output_h.is_none()) {
      relu_output = contiguous<T>(op, "relu_output", relu_output_h);
      EMBER_CHECK(shape_of(*relu_output) == shape_of(x), op, ": relu_output has shape ",
                  shape_str(*relu_output), " but input has shape ", shape_str(x));
    }
    Array<T> gi, gw, gb;
    if (need_input) gi = empty<T>(shape_of(x));
    if (need_weight) gw = empty<T>({s.c});
    if (need_bias) gb = empty<T>({s.c});
    {
      py::gil_scoped_release release;
      batch_norm_backward<T>(s, g.data(), x.data(), ptr(mean), ptr(invstd), ptr(w),
                             ptr(relu_output), training,
                             need_input ? gi.mutable_data() : nullptr,
                             need_weight ? gw.mutable_data() : nullptr,
                             need_bias ? gb.mutable_data() : nullptr);
    }
    auto or_none = [](bool need, const Array<T>& a) { return need ? py::object(a) : py::none(); };
    return py::make_tuple(or_none(need_input, gi), or_none(need_weight, gw), or_none(need_bias, gb));
  });
}

py::tuple layer_norm_forward_py(const py::handle& x_h, const py::object& w_h,
                                const py::object& b_h, double eps) {
  const char* op = "layer_norm";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    EMBER_CHECK(x.ndim() == 2, op, ": expected a 2-D (rows, normalized size) input, got shape ",
                shape_str(x));
    EMBER_CHECK_ARG(eps > 0, op, ": eps must be positive, got ", eps);
    const int64_t rows = x.shape(0), cols = x.shape(1);
    auto w = per_channel<T>(op, "weight", w_h, cols), b = per_channel<T>(op, "bias", b_h, cols);
    auto y = empty<T>(shape_of(x));
    auto mean = empty<T>({rows}), invstd = empty<T>({rows});
    {
      py::gil_scoped_release release;
      layer_norm_forward<T>(rows, cols, x.data(), ptr(w), ptr(b), eps, y.mutable_data(),
                            mean.mutable_data(), invstd.mutable_data());
    }
    return py::make_tuple(y, mean, invstd);
  });
}

py::tuple layer_norm_backward_py(const py::handle& g_h, const py::handle& x_h,
                                 const py::handle& mean_h, const py::handle& invstd_h,
                                 const py::object& w_h, bool need_input, bool need_weight,
                                 bool need_bias) {
  const char* op = "layer_norm_backward";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), g = contiguous<T>(op, "grad_output", g_h);
    EMBER_CHECK(x.ndim() == 2 && shape_of(g) == shape_of(x), op, ": expected 2-D input and "
                "grad_output of one shape, got ", shape_str(x), " and ", shape_str(g));
    const int64_t rows = x.shape(0), cols = x.shape(1);
    auto mean = per_channel<T>(op, "mean", mean_h.cast<py::object>(), rows);
    auto invstd = per_channel<T>(op, "invstd", invstd_h.cast<py::object>(), rows);
    EMBER_CHECK_ARG(mean && invstd, op, ": mean and invstd are required");
    auto w = per_channel<T>(op, "weight", w_h, cols);
    Array<T> gi, gw, gb;
    if (need_input) gi = empty<T>(shape_of(x));
    if (need_weight) gw = empty<T>({cols});
    if (need_bias) gb = empty<T>({cols});
    {
      py::gil_scoped_release release;
      layer_norm_backward<T>(rows, cols, g.data(), x.data(), ptr(mean), ptr(invstd), ptr(w),
                             need_input ? gi.mutable_data() : nullptr,
                             need_weight ? gw.mutable_data() : nullptr,
                             need_bias ? gb.mutable_data() : nullptr);
    }
    auto or_none = [](bool need, const Array<T>& a) { return need ? py::object(a) : py::none(); };
    return py::make_tuple(or_none(need_input, gi), or_none(need_weight, gw), or_none(need_bias, gb));
  });
}

}  // namespace

void bind_norm(py::module_& m) {
  m.def("batch_norm_forward_train", &batch_norm_forward_train_py, py::arg("input"),
        py::arg("weight"), py::arg("bias"), py::arg("eps"), py::arg("channels_last") = false,
        py::arg("fuse_relu") = false,
        "Returns (output, batch mean, biased batch variance); fuse_relu: ReLU of the output.");
  m.def("batch_norm_forward_eval", &batch_norm_forward_eval_py, py::arg("input"),
        py::arg("running_mean"), py::arg("running_var"), py::arg("weight"), py::arg("bias"),
        py::arg("eps"), py::arg("channels_last") = false, py::arg("fuse_relu") = false);
  m.def("batch_norm_backward", &batch_norm_backward_py, py::arg("grad_output"), py::arg("input"),
        py::arg("mean"), py::arg("invstd"), py::arg("weight"), py::arg("training"),
        py::arg("channels_last") = false, py::arg("need_input") = true,
        py::arg("need_weight") = true, py::arg("need_bias") = true,
        py::arg("relu_output") = py::none(),
        "relu_output: the forward output when ReLU was fused into it (masks grad_output).");
  m.def("layer_norm_forward", &layer_norm_forward_py, py::arg("input"), py::arg("weight"),
        py::arg("bias"), py::arg("eps"), "Returns (output, mean, invstd) per row.");
  m.def("layer_norm_backward", &layer_norm_backward_py, py::arg("grad_output"), py::arg("input"),
        py::arg("mean"), py::arg("invstd"), py::arg("weight"), py::arg("need_input") = true,
        py::arg("need_weight") = true, py::arg("need_bias") = true);
}

}  // namespace ember::bind
