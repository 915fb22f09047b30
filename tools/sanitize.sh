#!/usr/bin/env bash
# One command for an AddressSanitizer + UndefinedBehaviorSanitizer run of ember's kernels.
#
# Builds the extension with -fsanitize=address,undefined (generic instruction set, no LTO) into
# build/sanitize, stages the Python package beside it, and runs a chosen subset of the tests with
# the ASan runtime preloaded (the Python interpreter itself is not instrumented). The first
# report of either sanitizer stops the run with a non-zero exit code.
#
#   tools/sanitize.sh                      # the kernel, bounds and loading tests (default)
#   tools/sanitize.sh tests/test_conv_kernels.py -k empty    # any pytest arguments
#   tools/sanitize.sh tests/               # the whole suite (about an hour on 2 cores)
#   tools/sanitize.sh --campaign           # tools/error_campaign.py's generated bad calls
#
# Needs: a Python with pybind11, cmeel-eigen, numpy and pytest (PYTHON=..., default python3),
# CMake >= 3.18, Ninja and GCC or Clang with the sanitizer runtimes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=${PYTHON:-python3}
build=build/sanitize
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_ISA_LEVELS=generic \
  -DPython_EXECUTABLE="$(command -v "$python")" \
  -Dpybind11_DIR="$("$python" -m pybind11 --cmakedir)" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build "$build"

# The package as the tests import it: the sources, with only the sanitized modules beside them.
stage="$build/site"
rm -rf "$stage" && mkdir -p "$stage"
cp -r python/ember "$stage/"
find "$stage/ember" -name '*.so' -delete
cp "$build"/_core_generic*.so "$build"/_cpu*.so "$stage/ember/"
# An editable install of ember (pip install -e) puts an import hook before PYTHONPATH; drop it
# in every interpreter the tests start, so that they all import the staged package.
cat > "$stage/sitecustomize.py" <<'PY'
import sys
sys.meta_path[:] = [f for f in sys.meta_path if not type(f).__module__.startswith("_editable")]
PY

# libstdc++ preloaded too: loaded later than the ASan runtime, C++ exceptions thrown by the
# bindings (ember's ShapeError, ...) terminated the process instead of reaching Python.
runtime="$("${CXX:-c++}" -print-file-name=libasan.so) $("${CXX:-c++}" -print-file-name=libstdc++.so)"
asan_options="detect_leaks=0:abort_on_error=1:halt_on_error=1"
command=(-m pytest -q -p no:cacheprovider)
if [[ ${1:-} == --campaign ]]; then
  shift
  command=(tools/error_campaign.py)
  # The campaign tries absurd sizes. Its workers cannot limit their address space under ASan
  # (the shadow memory alone reserves terabytes), so allocations past 3 GB fail instead: NumPy
  # raises MemoryError and ember's own buffers raise its out-of-memory error, as they would
  # under the campaign's address-space limit.
  asan_options+=":allocator_may_return_null=1:max_allocation_size_mb=3072"
elif [[ $# -eq 0 ]]; then
  set -- tests/test_activation_kernels.py tests/test_conv_kernels.py \
    tests/test_conv_direct_kernels.py tests/test_conv_winograd_kernels.py \
    tests/test_pool_kernels.py tests/test_dense_kernels.py tests/test_shape_overflow.py \
    tests/test_bounded_loading.py tests/test_absurd_sizes.py tests/test_dropout_kernels.py
fi
# detect_leaks=0: CPython keeps its arenas to the end, which LeakSanitizer would report.
# -p no:cacheprovider: nothing written into the tree.
LD_PRELOAD="$runtime" PYTHONPATH="$stage" EMBER_ISA=generic OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" \
  ASAN_OPTIONS="$asan_options" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  "$python" "${command[@]}" "$@"
