// Bindings for 2-D convolution (1-D convolutions arrive with height 1).
#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "common.h"
#include "ember/conv.h"
#include "ember/conv_winograd.h"
#include "ember/parallel.h"

namespace ember::bind {

namespace {

using Pair = std::array<int64_t, 2>;
using Quad = std::array<int64_t, 4>;

Shape output_shape(const ConvShape& s) {
  if (s.channels_last) return {s.n, s.out_h(), s.out_w(), s.c_out};
  return {s.n, s.c_out, s.out_h(), s.out_w()};
}

// Validates the input's shape, the weight and the hyper-parameters and returns the convolution
// geometry. The input enters by shape only: the input gradient never reads the input itself.
ConvShape conv_shape(const char* op, const Shape& x_shape, const py::array& w, Pair stride,
                     Quad padding, Pair dilation, int64_t groups, bool channels_last) {
  const char* layout = channels_last ? "(N, H, W, C)" : "(N, C, H, W)";
  EMBER_CHECK(x_shape.size() == 4, op, ": expected a 4-D input ", layout, ", got shape ",
              ember::shape_str(x_shape));
  for (int64_t d : x_shape)
    EMBER_CHECK_ARG(d >= 0, op, ": input shape must be non-negative, got ",
                    ember::shape_str(x_shape));
  EMBER_CHECK(w.ndim() == 4, op, ": expected a 4-D weight (out_channels, in_channels/groups, kH, "
              "kW), got shape ", shape_str(w));
  EMBER_CHECK_ARG(groups >= 1, op, ": groups must be positive, got ", groups);
  EMBER_CHECK_ARG(stride[0] >= 1 && stride[1] >= 1, op, ": stride must be positive, got (",
                  stride[0], ", ", stride[1], ")");
  EMBER_CHECK_ARG(dilation[0] >= 1 && dilation[1] >= 1, op, ": dilation must be positive, got (",
                  dilation[0], ", ", dilation[1], ")");
  for (int64_t p : padding)
    EMBER_CHECK_ARG(p >= 0, op, ": padding must be non-negative, got (", padding[0], ", ",
                    padding[1], ", ", padding[2], ", ", padding[3], ")");
  ConvShape s{};
  s.n = x_shape[0];
  s.c_in = channels_last ? x_shape[3] : x_shape[1];
  s.h = channels_last ? x_shape[1] : x_shape[2];
  s.w = channels_last ? x_shape[2] : x_shape[3];
  s.c_out = w.shape(0);
  s.kh = w.shape(2);
  s.kw = w.shape(3);
  s.groups = groups;
  s.stride_h = stride[0], s.stride_w = stride[1];
  s.dilation_h = dilation[0], s.dilation_w = dilation[1];
  s.pad_top = padding[0], s.pad_bottom = padding[1], s.pad_left = padding[2], s.pad_right = padding[3];
  s.channels_last = channels_last;
  EMBER_CHECK(s.c_in % groups == 0 && s.c_out % groups == 0, op, ": in_channels (", s.c_in,
              ") and out_channels (", s.c_out, ") must be divisible by groups (", groups,
              "); input ", ember::shape_str(x_shape), ", weight ", shape_str(w));
  EMBER_CHECK(w.shape(1) * groups == s.c_in, op, ": input has ", s.c_in, " channels but weight ",
              shape_str(w), " with groups=", groups, " expects ", w.shape(1) * groups,
              " (input ", ember::shape_str(x_shape), " in layout ", layout, ")");
  EMBER_CHECK(s.kh >= 1 && s.kw >= 1, op, ": kernel must be at least 1x1, got weight ",
              shape_str(w));
  // Checked: a huge padding or dilation must not wrap into a size that passes the checks below.
  const int64_t eff_h = checked_span(op, s.kh, s.dilation_h), eff_w = checked_span(op, s.kw,
                                                                                   s.dilation_w);
  const int64_t padded_h = checked_padded(op, s.h, s.pad_top, s.pad_bottom),
                padded_w = checked_padded(op, s.w, s.pad_left, s.pad_right);
  EMBER_CHECK(padded_h >= eff_h && padded_w >= eff_w, op, ": kernel size (", eff_h, ", ", eff_w,
              ") (dilated) is larger than the padded input (", padded_h, ", ", padded_w,
              "); input ", ember::shape_str(x_shape), ", weight ", shape_str(w));
  // The kernels index the padded input with strides and offsets up to its extent: its element
  // count must fit int64 although it is never allocated.
  checked_bytes(op, {s.c_in, padded_h, padded_w}, 1);
  // A stride past the padded input leaves one output position, whose window starts at the
  // first row or column whatever the stride: the padded extent gives the same output and keeps
  // stride * element stride (and the kernels' other stride products) within int64.
  s.stride_h = std::min(s.stride_h, padded_h);
  s.stride_w = std::min(s.stride_w, padded_w);
  checked_bytes(op, output_shape(s), 8);  // the output's size, before anything is allocated
  return s;
}

// The im2col path allocates each thread's columns (one sample: its output positions times
// in_channels/groups * kH * kW, plus the outputs) inside the parallel region, where a bad_alloc
// would terminate the process instead of raising: refuse geometries whose columns cannot fit.
template <class T>
void check_workspace(const char* op, const ConvShape& s) {
  ConvShape nhwc = s;
  nhwc.channels_last = true;
  if (conv2d_winograd_applies(s) || conv2d_winograd_applies(nhwc)) return;
  const int64_t k = s.c_in / s.groups * s.kh * s.kw + s.c_out / s.groups;
  const int64_t threads = std::max(1, get_num_threads());
  const int64_t bytes = checked_bytes(op, {threads, s.out_h(), s.out_w(), k}, sizeof(T));
  if (bytes > memory_limit())
    throw OutOfMemory(concat(op, ": cannot allocate the ", bytes, " bytes of working memory "
                             "this convolution needs (", threads, " threads x ", s.out_h(), "x",
                             s.out_w(), " outputs x ", k, " columns); weight ", s.c_out, "x",
                             s.c_in / s.groups, "x", s.kh, "x", s.kw));
}

py::array conv2d_forward_py(const py::handle& x_h, const py::handle& w_h, const py::object& b_h,
                            Pair stride, Quad padding, Pair dilation, int64_t groups,
                            bool channels_last, bool relu) {
  const char* op = "conv2d";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), w = contiguous<T>(op, "weight", w_h);
    const ConvShape s =
        conv_shape(op, shape_of(x), w, stride, padding, dilation, groups, channels_last);
    check_workspace<T>(op, s);
    Array<T> b;
    if (!b_h.is_none()) {
      b = contiguous<T>(op, "bias", b_h);
      EMBER_CHECK(b.ndim() == 1 && b.shape(0) == s.c_out, op, ": bias must have shape (", s.c_out,
                  ",), got ", shape_str(b));
    }
    const T* bias = b_h.is_none() ? nullptr : b.data();
    auto y = empty<T>(output_shape(s));
    {
      py::gil_scoped_release release;
      conv2d_forward<T>(s, x.data(), w.data(), bias, y.mutable_data(), relu);
    }
    return y;
  });
}

// relu_output: the forward's output when it fused a ReLU (its gradient mask), else None.
py::tuple conv2d_backward_py(const py::handle& g_h, const py::handle& x_h, const py::handle& w_h,
                             Pair stride, Quad padding, Pair dilation, int64_t groups,
                             bool channels_last, bool need_input, bool need_weight,
                             bool need_bias, const py::object& relu_output_h) {
  const char* op = "conv2d_backward";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), w = contiguous<T>(op, "weight", w_h);
    auto g = contiguous<T>(op, "grad_output", g_h);
    const ConvShape s =
        conv_shape(op, shape_of(x), w, stride, padding, dilation, groups, channels_last);
    EMBER_CHECK(shape_of(g) == output_shape(s), op, ": grad_output has shape ", shape_str(g),
                ", expected ", ember::shape_str(output_shape(s)));
    check_workspace<T>(op, s);
    Array<T> relu_output;
    if (!relu_output_h.is_none()) {
      relu_output = contiguous<T>(op, "relu_output", relu_output_h);
      EMBER_CHECK(shape_of(relu_output) == output_shape(s), op, ": relu_output has shape ",
                  shape_str(relu_output), ", expected ", ember::shape_str(output_shape(s)));
    }
    Array<T> gi, gw, gb;
    if (need_input) gi = empty<T>(shape_of(x));
    if (need_weight) gw = empty<T>(shape_of(w));
    if (need_bias) gb = empty<T>({s.c_out});
    {
      py::gil_scoped_release release;
      conv2d_backward<T>(s, g.data(), x.data(), w.data(),
                         relu_output_h.is_none() ? nullptr : relu_output.data(),
                         need_input ? gi.mutable_data() : nullptr,
                         need_weight ? gw.mutable_data() : nullptr,
                         need_bias ? gb.mutable_data() : nullptr);
    }
    auto or_none = [](bool need, const Array<T>& a) { return need ? py::object(a) : py::none(); };
    return py::make_tuple(or_none(need_input, gi), or_none(need_weight, gw), or_none(need_bias, gb));
  });
}

// The input gradient alone (ATen's convolution_backward_input): the input enters by its shape,
// as the input gradient never reads it. Also the forward of the transposed convolution.
py::array conv2d_backward_input_py(const py::handle& g_h, const py::handle& w_h,
                                   const std::vector<int64_t>& input_shape, Pair stride,
                                   Quad padding, Pair dilation, int64_t groups,
                                   bool channels_last) {
  const char* op = "conv2d_backward_input";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h), w = contiguous<T>(op, "weight", w_h);
    const ConvShape s = conv_shape(op, input_shape, w, stride, padding, dilation, groups,
                                   channels_last);
    EMBER_CHECK(shape_of(g) == output_shape(s), op, ": grad_output has shape ", shape_str(g),
                ", expected ", ember::shape_str(output_shape(s)), " for input shape ",
                ember::shape_str(input_shape), " and weight ", shape_str(w));
    check_workspace<T>(op, s);
    auto gi = empty<T>(input_shape);
    {
      py::gil_scoped_release release;
      conv2d_backward<T>(s, g.data(), nullptr, w.data(), nullptr, gi.mutable_data(), nullptr,
                         nullptr);
    }
    return gi;
  });
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d_forward", &conv2d_forward_py, py::arg("input"), py::arg("weight"),
        py::arg("bias"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("channels_last") = false, py::arg("relu") = false,
        "padding is (top, bottom, left, right); channels_last means NHWC activations; relu "
        "fuses max(output, 0).");
  m.def("conv2d_backward", &conv2d_backward_py, py::arg("grad_output"), py::arg("input"),
        py::arg("weight"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("channels_last") = false, py::arg("need_input") = true,
        py::arg("need_weight") = true, py::arg("need_bias") = true,
        py::arg("relu_output") = py::none());
  m.def("conv2d_backward_input", &conv2d_backward_input_py, py::arg("grad_output"),
        py::arg("weight"), py::arg("input_shape"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"), py::arg("channels_last") = false,
        "The input gradient of conv2d for an input of shape input_shape (the transposed "
        "convolution's forward).");
}

}  // namespace ember::bind
