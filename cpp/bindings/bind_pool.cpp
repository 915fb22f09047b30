// Bindings for max, average and adaptive 2-D pooling (1-D pooling arrives with height 1).
#include <algorithm>
#include <array>
#include <string>

#include <pybind11/stl.h>

#include "common.h"
#include "ember/pool.h"
#include "ember/pool_tiled.h"

namespace ember::bind {

namespace {

using Pair = std::array<int64_t, 2>;
using Quad = std::array<int64_t, 4>;

// n, c, h, w of a 4-D activation array in either layout.
std::array<int64_t, 4> nchw(const char* op, const Shape& shape, bool channels_last) {
  EMBER_CHECK(shape.size() == 4, op, ": expected a 4-D input ",
              channels_last ? "(N, H, W, C)" : "(N, C, H, W)", ", got shape ",
              ember::shape_str(shape));
  if (channels_last) return {shape[0], shape[3], shape[1], shape[2]};
  return {shape[0], shape[1], shape[2], shape[3]};
}

Shape activation_shape(const PoolShape& s, int64_t h, int64_t w) {
  if (s.channels_last) return {s.n, h, w, s.c};
  return {s.n, s.c, h, w};
}

PoolShape window_shape(const char* op, const Shape& input, Pair kernel, Pair stride, Quad padding,
                       Pair dilation, Pair out, bool channels_last) {
  const auto [n, c, h, w] = nchw(op, input, channels_last);
  EMBER_CHECK_ARG(kernel[0] >= 1 && kernel[1] >= 1, op, ": kernel_size must be positive, got (",
                  kernel[0], ", ", kernel[1], ")");
  EMBER_CHECK_ARG(stride[0] >= 1 && stride[1] >= 1, op, ": stride must be positive, got (",
                  stride[0], ", ", stride[1], ")");
  EMBER_CHECK_ARG(dilation[0] >= 1 && dilation[1] >= 1, op, ": dilation must be positive, got (",
                  dilation[0], ", ", dilation[1], ")");
  const int64_t eff_h = checked_span(op, kernel[0], dilation[0]),
                eff_w = checked_span(op, kernel[1], dilation[1]);
  // PyTorch's rule: padding at most half of the (undilated) kernel size.
  for (int k = 0; k < 4; ++k)
    EMBER_CHECK_ARG(padding[k] >= 0 && padding[k] <= kernel[k < 2 ? 0 : 1] / 2, op,
                    ": padding should be non-negative and at most half of the kernel size, got "
                    "padding (", padding[0], ", ", padding[1], ", ", padding[2], ", ", padding[3],
                    ") for kernel (", kernel[0], ", ", kernel[1], ")");
  const int64_t padded_h = checked_padded(op, h, padding[0], padding[1]),
                padded_w = checked_padded(op, w, padding[2], padding[3]);
  EMBER_CHECK(padded_h >= eff_h && padded_w >= eff_w, op, ": kernel size (", eff_h, ", ", eff_w,
              ") is larger than the padded input (", padded_h, ", ", padded_w, "); input shape ",
              ember::shape_str(input));
  // The output size must be the floor or the ceil_mode size of this geometry: anything else
  // would read windows lying wholly in the padding (or beyond it) and divide by zero.
  const int64_t size[2] = {h, w}, eff[2] = {eff_h, eff_w}, before[2] = {padding[0], padding[2]},
                after[2] = {padding[1], padding[3]};
  for (int d = 0; d < 2; ++d) {
    const int64_t span = size[d] + before[d] + after[d] - eff[d];  // >= 0, no overflow: checked
    const int64_t lo = span / stride[d] + 1;
    int64_t hi = span / stride[d] + (span % stride[d] != 0) + 1;  // (span + stride - 1) can wrap
    int64_t last_start;
    if (__builtin_mul_overflow(hi - 1, stride[d], &last_start) || last_start >= size[d] + before[d])
      --hi;
    EMBER_CHECK(out[d] >= lo && out[d] <= std::max(lo, hi), op, ": output size (", out[0], ", ",
                out[1], ") does not fit the window geometry (expected ", lo,
                lo < hi ? " or " + std::to_string(hi) : std::string(), " along dimension ", d,
                "); input shape ", ember::shape_str(input));
  }
  checked_bytes(op, {n, c, out[0], out[1]}, 8);  // the output's size, before any allocation
  return {n, c, h, w, out[0], out[1], kernel[0], kernel[1], stride[0], stride[1],
          padding[0], padding[1], padding[2], padding[3], dilation[0], dilation[1], channels_last};
}

PoolShape adaptive_shape(const char* op, const Shape& input, Pair out, bool channels_last) {
  const auto [n, c, h, w] = nchw(op, input, channels_last);
  EMBER_CHECK_ARG(out[0] >= 1 && out[1] >= 1, op, ": output_size must be positive, got (", out[0],
                  ", ", out[1], ")");
  EMBER_CHECK(h >= 1 && w >= 1, op, ": input spatial size must be positive, got shape ",
              ember::shape_str(input));
  // The kernels compute window ends as ((i + 1) * h + out_h - 1) / out_h: that must not wrap.
  checked_add(op, "output_size * input size", checked_mul(op, "output_size * input size", out[0],
                                                          h), out[0]);
  checked_add(op, "output_size * input size", checked_mul(op, "output_size * input size", out[1],
                                                          w), out[1]);
  checked_bytes(op, {n, c, out[0], out[1]}, 8);
  PoolShape s{};
  s.n = n, s.c = c, s.h = h, s.w = w, s.out_h = out[0], s.out_w = out[1];
  s.channels_last = channels_last;
  return s;
}

// A pooling backward's grad_output must have the forward output's shape.
void check_grad(const char* op, const py::array& g, const PoolShape& s) {
  const Shape expected = activation_shape(s, s.out_h, s.out_w);
  EMBER_CHECK(shape_of(g) == expected, op, ": grad_output has shape ", shape_str(g),
              ", expected ", ember::shape_str(expected));
}

// Returns (output, indices); indices is None when not wanted and the windows tile the input
// (the tiled backward does not need them).
py::tuple max_pool2d_forward_py(const py::handle& x_h, Pair kernel, Pair stride, Quad padding,
                                Pair dilation, Pair out, bool channels_last, bool want_indices) {
  const char* op = "max_pool2d";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    const PoolShape s = window_shape(op, shape_of(x), kernel, stride, padding, dilation, out,
                                     channels_last);
    auto y = empty<T>(activation_shape(s, s.out_h, s.out_w));
    const bool tiled = windows_tile(s), with_indices = want_indices || !tiled;
    Array<int64_t> idx;
    if (with_indices) idx = empty<int64_t>(activation_shape(s, s.out_h, s.out_w));
    {
      py::gil_scoped_release release;
      int64_t* at = with_indices ? idx.mutable_data() : nullptr;
      if (tiled)
        max_pool2d_forward_tiled<T>(s, x.data(), y.mutable_data(), at);
      else
        max_pool2d_forward<T>(s, x.data(), y.mutable_data(), at);
    }
    return py::make_tuple(y, with_indices ? py::object(idx) : py::none());
  });
}

// The gradient of max pooling over windows that tile the input, found again from the input.
py::array max_pool2d_tiled_backward_py(const py::handle& g_h, const py::handle& x_h,
                                       Pair kernel, bool channels_last) {
  const char* op = "max_pool2d_tiled_backward";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h), g = contiguous<T>(op, "grad_output", g_h);
    const auto [n, c, h, w] = nchw(op, shape_of(x), channels_last);
    EMBER_CHECK_ARG(kernel[0] >= 1 && kernel[1] >= 1, op, ": kernel_size must be positive, got (",
                    kernel[0], ", ", kernel[1], ")");
    const PoolShape s = window_shape(op, shape_of(x), kernel, kernel, {0, 0, 0, 0}, {1, 1},
                                     {h / kernel[0], w / kernel[1]}, channels_last);
    check_grad(op, g, s);
    auto gi = empty<T>(shape_of(x));
    {
      py::gil_scoped_release release;
      max_pool2d_backward_tiled<T>(s, g.data(), x.data(), gi.mutable_data());
    }
    return gi;
  });
}

py::tuple adaptive_max_pool2d_forward_py(const py::handle& x_h, Pair out, bool channels_last) {
  const char* op = "adaptive_max_pool2d";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    const PoolShape s = adaptive_shape(op, shape_of(x), out, channels_last);
    auto y = empty<T>(activation_shape(s, s.out_h, s.out_w));
    auto idx = empty<int64_t>(activation_shape(s, s.out_h, s.out_w));
    {
      py::gil_scoped_release release;
      adaptive_max_pool2d_forward<T>(s, x.data(), y.mutable_data(), idx.mutable_data());
    }
    return py::make_tuple(y, idx);
  });
}

// Shared by max and adaptive max pooling: scatters gradients to the recorded positions.
py::array max_pool2d_backward_py(const py::handle& g_h, const py::handle& idx_h,
                                 const Shape& input_shape, bool channels_last) {
  const char* op = "max_pool2d_backward";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    auto idx = contiguous_index(op, "indices", idx_h);
    const auto [gn, gc, gh, gw] = nchw(op, shape_of(g), channels_last);
    PoolShape s = adaptive_shape(op, input_shape, {gh, gw}, channels_last);
    EMBER_CHECK(gn == s.n && gc == s.c, op, ": grad_output ", shape_str(g),
                " does not match input shape ", ember::shape_str(input_shape));
    EMBER_CHECK(shape_of(idx) == shape_of(g), op, ": indices have shape ", shape_str(idx),
                " but grad_output has shape ", shape_str(g));
    const int64_t* at = idx.data();
    for (int64_t i = 0, n = numel(idx); i < n; ++i)
      EMBER_CHECK_INDEX(at[i] >= -1 && at[i] < s.h * s.w, op, ": index ", at[i],
                        " is outside the ", s.h, "x", s.w, " input plane");
    auto gi = empty<T>(input_shape);
    {
      py::gil_scoped_release release;
      max_pool2d_backward<T>(s, g.data(), at, gi.mutable_data());
    }
    return gi;
  });
}

py::array avg_pool2d_forward_py(const py::handle& x_h, Pair kernel, Pair stride, Quad padding,
                                Pair out, bool count_include_pad, int64_t divisor_override,
                                bool channels_last) {
  const char* op = "avg_pool2d";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    const PoolShape s = window_shape(op, shape_of(x), kernel, stride, padding, {1, 1}, out,
                                     channels_last);
    auto y = empty<T>(activation_shape(s, s.out_h, s.out_w));
    {
      py::gil_scoped_release release;
      avg_pool2d_forward<T>(s, count_include_pad, divisor_override, x.data(), y.mutable_data());
    }
    return y;
  });
}

py::array avg_pool2d_backward_py(const py::handle& g_h, const Shape& input_shape, Pair kernel,
                                 Pair stride, Quad padding, bool count_include_pad,
                                 int64_t divisor_override, bool channels_last) {
  const char* op = "avg_pool2d_backward";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    const auto [gn, gc, gh, gw] = nchw(op, shape_of(g), channels_last);
    const PoolShape s = window_shape(op, input_shape, kernel, stride, padding, {1, 1}, {gh, gw},
                                     channels_last);
    check_grad(op, g, s);
    auto gi = empty<T>(input_shape);
    {
      py::gil_scoped_release release;
      avg_pool2d_backward<T>(s, count_include_pad, divisor_override, g.data(), gi.mutable_data());
    }
    return gi;
  });
}

py::array adaptive_avg_pool2d_forward_py(const py::handle& x_h, Pair out, bool channels_last) {
  const char* op = "adaptive_avg_pool2d";
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto x = contiguous<T>(op, "input", x_h);
    const PoolShape s = adaptive_shape(op, shape_of(x), out, channels_last);
    auto y = empty<T>(activation_shape(s, s.out_h, s.out_w));
    {
      py::gil_scoped_release release;
      adaptive_avg_pool2d_forward<T>(s, x.data(), y.mutable_data());
    }
    return y;
  });
}

py::array adaptive_avg_pool2d_backward_py(const py::handle& g_h, const Shape& input_shape,
                                          bool channels_last) {
  const char* op = "adaptive_avg_pool2d_backward";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    const auto [gn, gc, gh, gw] = nchw(op, shape_of(g), channels_last);
    const PoolShape s = adaptive_shape(op, input_shape, {gh, gw}, channels_last);
    check_grad(op, g, s);
    auto gi = empty<T>(input_shape);
    {
      py::gil_scoped_release release;
      adaptive_avg_pool2d_backward<T>(s, g.data(), gi.mutable_data());
    }
    return gi;
  });
}

}  // namespace

void bind_pool(py::module_& m) {
  // padding is (top, bottom, left, right); out is the output (height, width).
  m.def("max_pool2d_forward", &max_pool2d_forward_py, py::arg("input"), py::arg("kernel_size"),
        py::arg("stride"), py::arg("padding"), py::arg("dilation"), py::arg("output_size"),
        py::arg("channels_last") = false, py::arg("want_indices") = true);
  m.def("max_pool2d_backward", &max_pool2d_backward_py, py::arg("grad_output"),
        py::arg("indices"), py::arg("input_shape"), py::arg("channels_last") = false);
  m.def("max_pool2d_tiled_backward", &max_pool2d_tiled_backward_py, py::arg("grad_output"),
        py::arg("input"), py::arg("kernel_size"), py::arg("channels_last") = false);
  m.def("adaptive_max_pool2d_forward", &adaptive_max_pool2d_forward_py, py::arg("input"),
        py::arg("output_size"), py::arg("channels_last") = false);
  m.def("avg_pool2d_forward", &avg_pool2d_forward_py, py::arg("input"), py::arg("kernel_size"),
        py::arg("stride"), py::arg("padding"), py::arg("output_size"),
        py::arg("count_include_pad"), py::arg("divisor_override"),
        py::arg("channels_last") = false);
  m.def("avg_pool2d_backward", &avg_pool2d_backward_py, py::arg("grad_output"),
        py::arg("input_shape"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("count_include_pad"), py::arg("divisor_override"),
        py::arg("channels_last") = false);
  m.def("adaptive_avg_pool2d_forward", &adaptive_avg_pool2d_forward_py, py::arg("input"),
        py::arg("output_size"), py::arg("channels_last") = false);
  m.def("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward_py, py::arg("grad_output"),
        py::arg("input_shape"), py::arg("channels_last") = false);
}

}  // namespace ember::bind
