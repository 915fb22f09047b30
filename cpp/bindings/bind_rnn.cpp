// Bindings for embeddings and whole-sequence recurrent layers.
#include <optional>
#include <string>

#include "common.h"
#include "ember/embedding.h"
#include "ember/rnn.h"

namespace ember::bind {

namespace {

RnnMode parse_mode(const std::string& mode) {
  if (mode == "rnn_tanh") return RnnMode::rnn_tanh;
  if (mode == "rnn_relu") return RnnMode::rnn_relu;
  if (mode == "lstm") return RnnMode::lstm;
  if (mode == "gru") return RnnMode::gru;
  throw std::invalid_argument("rnn: mode must be 'rnn_tanh', 'rnn_relu', 'lstm' or 'gru', got '" +
                              mode + "'");
}

template <class T>
using Optional = std::optional<Array<T>>;

template <class T>
Optional<T> optional_array(const char* op, const char* name, const py::object& h,
                           const Shape& shape) {
  if (h.is_none()) return std::nullopt;
  auto a = contiguous<T>(op, name, h);
  EMBER_CHECK(shape_of(a) == shape, op, ": ", name, " must have shape ", ember::shape_str(shape),
              ", got ", shape_str(a));
  return a;
}

template <class T>
const T* ptr(const Optional<T>& a) {
  return a ? a->data() : nullptr;
}

// The mask as contiguous uint8 (steps, batch), or nothing.
std::optional<Array<uint8_t>> mask_array(const char* op, const py::object& h, int64_t steps,
                                         int64_t batch) {
  if (h.is_none()) return std::nullopt;
  py::array a = as_array(op, "mask", h);
  const char kind = a.dtype().kind();
  if (kind != 'b' && kind != 'u' && kind != 'i')
    throw py::type_error(concat(op, ": mask must be boolean or integer, got dtype ",
                                dtype_str(a), " with shape ", shape_str(a)));
  // Through bool, so that any nonzero integer (256 included) means "valid".
  auto m = Array<uint8_t>::ensure(a.attr("astype")("bool").attr("astype")("uint8"));
  EMBER_CHECK(shape_of(m) == Shape({steps, batch}), op, ": mask must have shape (", steps, ", ",
              batch, "), got ", shape_str(m));
  return m;
}

// A layer's arguments, shared by forward and backward: validated once, contiguous.
template <class T>
struct LayerArgs {
  Array<T> x, h0, w_ih, w_hh;
  Optional<T> c0;
  RnnShape s;

  LayerArgs(const char* op, RnnMode mode, bool reverse, bool batch_first, const py::handle& x_h,
            const py::handle& h0_h, const py::object& c0_h, const py::handle& wih_h,
            const py::handle& whh_h)
      : x(contiguous<T>(op, "input", x_h)), h0(contiguous<T>(op, "h0", h0_h)),
        w_ih(contiguous<T>(op, "weight_ih", wih_h)), w_hh(contiguous<T>(op, "weight_hh", whh_h)) {
    if (!c0_h.is_none()) c0 = contiguous<T>(op, "c0", c0_h);
    const char* layout = batch_first ? "(batch, steps, input_size)" : "(steps, batch, input_size)";
    EMBER_CHECK(x.ndim() == 3, op, ": input must be ", layout, ", got shape ", shape_str(x));
    const int64_t steps = x.shape(batch_first ? 1 : 0), batch = x.shape(batch_first ? 0 : 1);
    const int64_t in = x.shape(2);
    EMBER_CHECK(steps >= 1, op, ": the sequence must have at least one step, got shape ",
                shape_str(x), " ", layout);
    EMBER_CHECK(w_hh.ndim() == 2 && w_hh.shape(0) % gate_count(mode) == 0, op,
                ": weight_hh must be (", gate_count(mode), " * hidden_size, hidden_size), got ",
                shape_str(w_hh));
    const int64_t H = w_hh.shape(0) / gate_count(mode);
    EMBER_CHECK(w_hh.shape(1) == H, op, ": weight_hh must be (", gate_count(mode) * H, ", ", H,
                "), got ", shape_str(w_hh));
    EMBER_CHECK(shape_of(w_ih) == Shape({gate_count(mode) * H, in}), op,
                ": weight_ih must be (", gate_count(mode) * H, ", ", in, ") for input ",
                shape_str(x), ", got ", shape_str(w_ih));
    EMBER_CHECK(shape_of(h0) == Shape({batch, H}), op, ": h0 must be (", batch, ", ", H,
                ") for input ", shape_str(x), ", got ", shape_str(h0));
    if (mode == RnnMode::lstm) {
      EMBER_CHECK_ARG(c0.has_value(), op, ": LSTM needs c0");
      EMBER_CHECK(shape_of(*c0) == Shape({batch, H}), op, ": c0 must be (", batch, ", ", H,
                  "), got ", shape_str(*c0));
    }
    s = {steps, batch, in, H, mode, reverse, batch_first};
  }

  // (steps, batch, width) in the input's layout.
  Shape sequence(int64_t width) const {
    return s.batch_first ? Shape{s.batch, s.steps, width} : Shape{s.steps, s.batch, width};
  }
};

py::tuple rnn_forward_py(const std::string& mode_name, const py::handle& x_h,
                         const py::handle& h0_h, const py::object& c0_h, const py::handle& wih_h,
                         const py::handle& whh_h, const py::object& bih_h,
                         const py::object& bhh_h, const py::object& mask_h, bool reverse,
                         bool batch_first, bool keep_reserve) {
  const char* op = "rnn";
  const RnnMode mode = parse_mode(mode_name);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    const LayerArgs<T> a(op, mode, reverse, batch_first, x_h, h0_h, c0_h, wih_h, whh_h);
    const RnnShape& s = a.s;
    const int64_t GH = gate_count(mode) * s.hidden;
    auto b_ih = optional_array<T>(op, "bias_ih", bih_h, {GH});
    auto b_hh = optional_array<T>(op, "bias_hh", bhh_h, {GH});
    auto mask = mask_array(op, mask_h, s.steps, s.batch);
    // LSTM: output and c_n are views of one buffer (the output first), so that the caller can
    // hand both on as one array without a copy.
    const bool lstm = mode == RnnMode::lstm;
    const int64_t out_size = s.steps * s.batch * s.hidden;
    auto flat = empty<T>({out_size + (lstm ? s.batch * s.hidden : 0)});
    const Shape out_shape = a.sequence(s.hidden);
    py::array out(py::dtype::of<T>(), std::vector<py::ssize_t>(out_shape.begin(), out_shape.end()),
                  flat.mutable_data(), flat);
    py::object c_n = py::none();
    if (lstm)
      c_n = py::array(py::dtype::of<T>(), std::vector<py::ssize_t>{s.batch, s.hidden},
                      flat.mutable_data() + out_size, flat);
    const bool with_reserve = keep_reserve && reserve_width(s) > 0;
    Array<T> reserve;
    if (keep_reserve) reserve = empty<T>({s.steps, s.batch, reserve_width(s)});
    {
      py::gil_scoped_release release;
      rnn_forward<T>(s, a.x.data(), a.h0.data(), ptr(a.c0), a.w_ih.data(), a.w_hh.data(),
                     ptr(b_ih), ptr(b_hh), mask ? mask->data() : nullptr, flat.mutable_data(),
                     lstm ? flat.mutable_data() + out_size : nullptr,
                     with_reserve ? reserve.mutable_data() : nullptr);
    }
    return py::make_tuple(out, c_n, keep_reserve ? py::object(reserve) : py::none());
  });
}

py::tuple rnn_backward_py(const std::string& mode_name, const py::handle& g_h,
                          const py::object& gcn_h, const py::handle& x_h, const py::handle& h0_h,
                          const py::object& c0_h, const py::handle& wih_h,
                          const py::handle& whh_h, const py::object& mask_h,
                          const py::handle& out_h, const py::handle& reserve_h, bool reverse,
                          bool need_input, bool need_h0, bool need_c0, bool need_weights,
                          bool need_bias, bool batch_first) {
  const char* op = "rnn_backward";
  const RnnMode mode = parse_mode(mode_name);
  return dispatch_floating(op, as_array(op, "input", x_h), [&](auto t) -> py::tuple {
    using T = decltype(t);
    const LayerArgs<T> a(op, mode, reverse, batch_first, x_h, h0_h, c0_h, wih_h, whh_h);
    const RnnShape& s = a.s;
    const Shape seq = a.sequence(s.hidden);
    auto g = contiguous<T>(op, "grad_output", g_h);
    EMBER_CHECK(shape_of(g) == seq, op, ": grad_output must have shape ", ember::shape_str(seq),
                ", got ", shape_str(g));
    auto out = contiguous<T>(op, "output", out_h);
    EMBER_CHECK(shape_of(out) == seq, op, ": output must have shape ", ember::shape_str(seq),
                ", got ", shape_str(out));
    auto reserve = contiguous<T>(op, "reserve", reserve_h);
    const Shape reserve_shape{s.steps, s.batch, reserve_width(s)};
    EMBER_CHECK(shape_of(reserve) == reserve_shape, op, ": reserve has shape ",
                shape_str(reserve), ", expected ", ember::shape_str(reserve_shape));
    auto g_cn = optional_array<T>(op, "grad_c_n", gcn_h, {s.batch, s.hidden});
    auto mask = mask_array(op, mask_h, s.steps, s.batch);
    const int64_t GH = gate_count(mode) * s.hidden;
    Array<T> gi, gh0, gc0, gwih, gwhh, gbih, gbhh;
    if (need_input) gi = empty<T>(shape_of(a.x));
    if (need_h0) gh0 = empty<T>({s.batch, s.hidden});
    const bool want_c0 = need_c0 && mode == RnnMode::lstm;
    if (want_c0) gc0 = empty<T>({s.batch, s.hidden});
    if (need_weights) gwih = empty<T>(shape_of(a.w_ih)), gwhh = empty<T>(shape_of(a.w_hh));
    if (need_bias) gbih = empty<T>({GH}), gbhh = empty<T>({GH});
    {
      py::gil_scoped_release release;
      rnn_backward<T>(s, g.data(), ptr(g_cn), a.x.data(), a.h0.data(), ptr(a.c0),
                      a.w_ih.data(), a.w_hh.data(), mask ? mask->data() : nullptr, out.data(),
                      reserve_width(s) ? reserve.data() : nullptr,
                      need_input ? gi.mutable_data() : nullptr,
                      need_h0 ? gh0.mutable_data() : nullptr,
                      want_c0 ? gc0.mutable_data() : nullptr,
                      need_weights ? gwih.mutable_data() : nullptr,
                      need_weights ? gwhh.mutable_data() : nullptr,
                      need_bias ? gbih.mutable_data() : nullptr,
                      need_bias ? gbhh.mutable_data() : nullptr);
    }
    auto or_none = [](bool need, const Array<T>& a) { return need ? py::object(a) : py::none(); };
    return py::make_tuple(or_none(need_input, gi), or_none(need_h0, gh0), or_none(want_c0, gc0),
                          or_none(need_weights, gwih), or_none(need_weights, gwhh),
                          or_none(need_bias, gbih), or_none(need_bias, gbhh));
  });
}

// Indices as contiguous int64, each checked against the table (never read out of bounds).
Array<int64_t> checked_indices(const char* op, const py::handle& idx_h, int64_t num,
                               const Shape& weight_shape) {
  auto idx = contiguous_index(op, "indices", idx_h);
  const int64_t* p = idx.data();
  for (int64_t i = 0, n = numel(idx); i < n; ++i)
    EMBER_CHECK_INDEX(p[i] >= 0 && p[i] < num, op, ": index ", p[i], " is out of range for an "
                      "embedding table of ", num, " rows (weight ",
                      ember::shape_str(weight_shape), ", indices ", shape_str(idx), ")");
  return idx;
}

py::array embedding_forward_py(const py::handle& w_h, const py::handle& idx_h) {
  const char* op = "embedding";
  return dispatch_floating(op, as_array(op, "weight", w_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto w = contiguous<T>(op, "weight", w_h);
    EMBER_CHECK(w.ndim() == 2, op, ": weight must be (num_embeddings, embedding_dim), got shape ",
                shape_str(w));
    auto idx = checked_indices(op, idx_h, w.shape(0), shape_of(w));
    Shape out_shape = shape_of(idx);
    out_shape.push_back(w.shape(1));
    auto out = empty<T>(out_shape);
    {
      py::gil_scoped_release release;
      embedding_forward<T>(w.data(), w.shape(1), idx.data(), numel(idx), out.mutable_data());
    }
    return out;
  });
}

py::array embedding_backward_py(const py::handle& g_h, const py::handle& idx_h,
                                int64_t num_embeddings, int64_t padding_idx) {
  const char* op = "embedding_backward";
  return dispatch_floating(op, as_array(op, "grad_output", g_h), [&](auto t) -> py::array {
    using T = decltype(t);
    auto g = contiguous<T>(op, "grad_output", g_h);
    EMBER_CHECK_ARG(num_embeddings >= 0, op, ": num_embeddings must be non-negative");
    EMBER_CHECK(g.ndim() >= 1, op, ": grad_output must have an embedding axis, got shape ",
                shape_str(g));
    const int64_t dim = g.shape(g.ndim() - 1);
    auto idx = checked_indices(op, idx_h, num_embeddings, {num_embeddings, dim});
    Shape expected = shape_of(idx);
    expected.push_back(dim);
    EMBER_CHECK(shape_of(g) == expected, op, ": grad_output has shape ", shape_str(g),
                " but indices ", shape_str(idx), " need ", ember::shape_str(expected));
    auto gw = empty<T>({num_embeddings, dim});
    {
      py::gil_scoped_release release;
      embedding_backward<T>(g.data(), idx.data(), numel(idx), num_embeddings, dim, padding_idx,
                            gw.mutable_data());
    }
    return gw;
  });
}

}  // namespace

void bind_rnn(py::module_& m) {
  m.def("rnn_forward", &rnn_forward_py, py::arg("mode"), py::arg("input"), py::arg("h0"),
        py::arg("c0"), py::arg("weight_ih"), py::arg("weight_hh"), py::arg("bias_ih"),
        py::arg("bias_hh"), py::arg("mask") = py::none(), py::arg("reverse") = false,
        py::arg("batch_first") = false, py::arg("keep_reserve") = true,
        "One layer, one direction, time-major unless batch_first. Returns (output, c_n or "
        "None, reserve or None); reserve is what backward needs, kept when keep_reserve. For "
        "LSTM, output and c_n are views of one buffer (their .base), output first.");
  m.def("rnn_backward", &rnn_backward_py, py::arg("mode"), py::arg("grad_output"),
        py::arg("grad_c_n"), py::arg("input"), py::arg("h0"), py::arg("c0"),
        py::arg("weight_ih"), py::arg("weight_hh"), py::arg("mask"), py::arg("output"),
        py::arg("reserve"), py::arg("reverse") = false, py::arg("need_input") = true,
        py::arg("need_h0") = true, py::arg("need_c0") = true, py::arg("need_weights") = true,
        py::arg("need_bias") = true, py::arg("batch_first") = false,
        "Returns (grad_input, grad_h0, grad_c0, grad_weight_ih, grad_weight_hh, grad_bias_ih, "
        "grad_bias_hh), None where not requested.");
  m.def("embedding_forward", &embedding_forward_py, py::arg("weight"), py::arg("indices"));
  m.def("embedding_backward", &embedding_backward_py, py::arg("grad_output"), py::arg("indices"),
        py::arg("num_embeddings"), py::arg("padding_idx") = -1);
}

}  // namespace ember::bind
