// Bindings for the optimizer updates. Each call updates a whole parameter group: every tensor
// is validated first, so a bad argument leaves all parameters and states untouched.
#include <functional>

#include "common.h"
#include "ember/optim.h"

namespace ember::bind {

namespace {

// One parameter's buffers: role 0 is the parameter, 1 its gradient, the rest optimizer state.
struct Slots {
  bool is_double = false;
  int64_t n = 0;
  std::vector<void*> ptr;          // null for an absent optional state
  std::vector<py::object> keep;    // keeps contiguous copies of gradients alive
};

// Validates list[i] of each role against the parameter and gathers raw pointers.
// Writable roles (parameter and states) must be C-contiguous arrays of the parameter's dtype:
// they are updated in place, so a copy would silently lose the update.
std::vector<Slots> collect(const char* op, const std::vector<py::list>& lists,
                           const std::vector<const char*>& names, const std::vector<bool>& optional) {
  const size_t count = lists[0].size();
  for (size_t r = 1; r < lists.size(); ++r)
    EMBER_CHECK(lists[r].size() == count, op, ": got ", count, " parameters but ", lists[r].size(),
                " ", names[r], " entries");
  std::vector<Slots> out(count);
  for (size_t i = 0; i < count; ++i) {
    py::array p = as_array(op, names[0], lists[0][i]);
    const char kind = p.dtype().kind();
    if (!(kind == 'f' && (p.itemsize() == 4 || p.itemsize() == 8)))
      throw py::type_error(concat(op, ": ", names[0], " ", i, " must be float32 or float64, got ",
                                  dtype_str(p), " with shape ", shape_str(p)));
    Slots& s = out[i];
    s.is_double = p.itemsize() == 8;
    s.n = numel(p);
    for (size_t r = 0; r < lists.size(); ++r) {
      py::handle h = lists[r][i];
      if (h.is_none()) {
        EMBER_CHECK_ARG(optional[r], op, ": ", names[r], " ", i, " is missing");
        s.ptr.push_back(nullptr);
        continue;
      }
      py::array a = as_array(op, names[r], h);
      EMBER_CHECK(same_shape(a, p), op, ": ", names[r], " ", i, " has shape ", shape_str(a),
                  " but its parameter has shape ", shape_str(p));
      if (!(a.dtype().kind() == 'f' && a.itemsize() == p.itemsize()))
        throw py::type_error(concat(op, ": ", names[r], " ", i, " has dtype ", dtype_str(a),
                                    " but its parameter has ", dtype_str(p), " (shape ",
                                    shape_str(p), ")"));
      if (r == 1) {  // read only: copy if strided
        py::array c = s.is_double ? py::array(contiguous<double>(op, names[r], a))
                                  : py::array(contiguous<float>(op, names[r], a));
        s.ptr.push_back(const_cast<void*>(c.data()));
        s.keep.push_back(c);
        continue;
      }
      EMBER_CHECK_ARG(a.writeable() && (a.flags() & py::array::c_style) &&
                          a.dtype().byteorder() != '>',
                      op, ": ", names[r], " ", i, " must be a writeable C-contiguous array "
                      "(it is updated in place), got ",
                      a.writeable() ? "a non-contiguous" : "a read-only", " array of shape ",
                      shape_str(a));
      s.ptr.push_back(a.mutable_data());
    }
  }
  return out;
}

template <class T>
T* as(void* p) {
  return static_cast<T*>(p);
}

// Runs kernel(slots) for every parameter with the GIL released.
void run(std::vector<Slots>& all, const std::function<void(Slots&)>& kernel) {
  py::gil_scoped_release release;
  for (auto& s : all) kernel(s);
}

}  // namespace

void bind_optim(py::module_& m) {
  m.def("sgd_step", [](py::list params, py::list grads, py::list bufs, bool init_buffers,
                       double lr, double momentum, double dampening, double weight_decay,
                       bool nesterov, bool maximize) {
    auto all = collect("sgd", {params, grads, bufs}, {"param", "grad", "momentum_buffer"},
                       {false, false, true});
    SgdOptions o{lr, momentum, dampening, weight_decay, nesterov, maximize};
    run(all, [&](Slots& s) {
      if (s.is_double) sgd_step<double>(o, as<double>(s.ptr[0]), as<double>(s.ptr[1]), as<double>(s.ptr[2]), init_buffers, s.n);
      else sgd_step<float>(o, as<float>(s.ptr[0]), as<float>(s.ptr[1]), as<float>(s.ptr[2]), init_buffers, s.n);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("momentum_buffers"), py::arg("init_buffers"),
     py::arg("lr"), py::arg("momentum"), py::arg("dampening"), py::arg("weight_decay"),
     py::arg("nesterov"), py::arg("maximize"));

  m.def("adam_step", [](py::list params, py::list grads, py::list m1, py::list m2, py::list vmax,
                        double lr, double beta1, double beta2, double eps, double weight_decay,
                        bool decoupled, bool amsgrad, bool maximize, double bc1, double bc2) {
    auto all = collect("adam", {params, grads, m1, m2, vmax},
                       {"param", "grad", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"},
                       {false, false, false, false, !amsgrad});
    AdamOptions o{lr, beta1, beta2, eps, weight_decay, decoupled, amsgrad, maximize, bc1, bc2};
    run(all, [&](Slots& s) {
      if (s.is_double) adam_step<double>(o, as<double>(s.ptr[0]), as<double>(s.ptr[1]), as<double>(s.ptr[2]), as<double>(s.ptr[3]), as<double>(s.ptr[4]), s.n);
      else adam_step<float>(o, as<float>(s.ptr[0]), as<float>(s.ptr[1]), as<float>(s.ptr[2]), as<float>(s.ptr[3]), as<float>(s.ptr[4]), s.n);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("exp_avgs"), py::arg("exp_avg_sqs"),
     py::arg("max_exp_avg_sqs"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"),
     py::arg("weight_decay"), py::arg("decoupled_weight_decay"), py::arg("amsgrad"),
     py::arg("maximize"), py::arg("bias_correction1"), py::arg("bias_correction2"));

  m.def("rmsprop_step", [](py::list params, py::list grads, py::list sq, py::list bufs,
                           py::list gavg, double lr, double alpha, double eps, double weight_decay,
                           double momentum, bool centered, bool maximize) {
    auto all = collect("rmsprop", {params, grads, sq, bufs, gavg},
                       {"param", "grad", "square_avg", "momentum_buffer", "grad_avg"},
                       {false, false, false, momentum == 0, !centered});
    RmspropOptions o{lr, alpha, eps, weight_decay, momentum, centered, maximize};
    run(all, [&](Slots& s) {
      if (s.is_double) rmsprop_step<double>(o, as<double>(s.ptr[0]), as<double>(s.ptr[1]), as<double>(s.ptr[2]), as<double>(s.ptr[3]), as<double>(s.ptr[4]), s.n);
      else rmsprop_step<float>(o, as<float>(s.ptr[0]), as<float>(s.ptr[1]), as<float>(s.ptr[2]), as<float>(s.ptr[3]), as<float>(s.ptr[4]), s.n);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("square_avgs"), py::arg("momentum_buffers"),
     py::arg("grad_avgs"), py::arg("lr"), py::arg("alpha"), py::arg("eps"),
     py::arg("weight_decay"), py::arg("momentum"), py::arg("centered"), py::arg("maximize"));

  m.def("adagrad_step", [](py::list params, py::list grads, py::list sums, double clr,
                           double weight_decay, double eps, bool maximize) {
    auto all = collect("adagrad", {params, grads, sums}, {"param", "grad", "state_sum"},
                       {false, false, false});
    AdagradOptions o{clr, weight_decay, eps, maximize};
    run(all, [&](Slots& s) {
      if (s.is_double) adagrad_step<double>(o, as<double>(s.ptr[0]), as<double>(s.ptr[1]), as<double>(s.ptr[2]), s.n);
      else adagrad_step<float>(o, as<float>(s.ptr[0]), as<float>(s.ptr[1]), as<float>(s.ptr[2]), s.n);
    });
  }, py::arg("params"), py::arg("grads"), py::arg("state_sums"), py::arg("clr"),
     py::arg("weight_decay"), py::arg("eps"), py::arg("maximize"));
}

}  // namespace ember::bind
