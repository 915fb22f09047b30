// `ember._cpu`: which instruction-set levels this CPU runs. Built for baseline x86-64 and kept
// free of Eigen, so ember/_core.py can ask before it loads a kernel module that might not run.
#include <Python.h>

#include <string_view>

namespace {

// GCC's checks include the operating system's support for the AVX/AVX-512 register state.
bool runs_level(const char* level) {
#if defined(__x86_64__) || defined(_M_X64)
  __builtin_cpu_init();
  const std::string_view name(level);
  if (name == "generic") return true;
  if (name == "avx2") return __builtin_cpu_supports("x86-64-v3");
  if (name == "avx512") return __builtin_cpu_supports("x86-64-v4");
  return false;
#else
  return std::string_view(level) == "generic";
#endif
}

PyObject* supports(PyObject*, PyObject* arg) {
  const char* level = PyUnicode_AsUTF8(arg);
  if (level == nullptr) return nullptr;  // not a str: the TypeError is already set
  return PyBool_FromLong(runs_level(level));
}

PyMethodDef methods[] = {
    {"supports", supports, METH_O,
     "supports(level) -> bool: whether this CPU runs the 'generic', 'avx2' or 'avx512' kernels."},
    {nullptr, nullptr, 0, nullptr}};

PyModuleDef module = {PyModuleDef_HEAD_INIT, "_cpu", "Instruction-set levels this CPU runs.",
                      -1, methods};

}  // namespace

PyMODINIT_FUNC PyInit__cpu() { return PyModule_Create(&module); }
