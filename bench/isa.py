"""Instruction-set levels the suite can hold every library to (`--isa`), and what each library
reports it ran with.

`--isa avx2` runs an AVX2-only machine on an AVX-512 one: `environment("avx2")` goes into every
worker's environment, so the models, the kernels and the GEMM ceiling all run restricted, and
`probe()` (in a worker of its own) reads back what each library chose. A library that ignores
its variable is shown as such in the report, not assumed restricted.
"""

import contextlib
import ctypes
import os
import sys
import tempfile

import numpy as np

from bench.steps import ember_config

LEVELS = ("native", "avx2")
# NumPy's own SIMD loops dispatch at import among these targets; the AVX-512 ones are named
# "AVX512_*" (NumPy 1 and 2) or "X86_V4" (NumPy 2).
_NUMPY_AVX512 = ("AVX512", "X86_V4")


def _numpy_umath():
    core = getattr(np, "_core", None) or np.core  # NumPy 2 / NumPy 1
    return core._multiarray_umath


def _numpy_avx512_targets():
    return [t for t in _numpy_umath().__cpu_dispatch__ if t.startswith(_NUMPY_AVX512)]


def environment(level):
    """The variables that hold every library of a worker to `level`: none for "native"."""
    if level == "native":
        return {}
    return {
        "EMBER_ISA": "avx2",                # ember's kernel module
        "ATEN_CPU_CAPABILITY": "avx2",      # PyTorch's own vectorised kernels
        "ONEDNN_MAX_CPU_ISA": "AVX2",       # PyTorch's convolutions and nn.LSTM (oneDNN)
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # PyTorch's GEMM (MKL)
        "OPENBLAS_CORETYPE": "Haswell",     # NumPy's matmul (OpenBLAS)
        "NPY_DISABLE_CPU_FEATURES": " ".join(_numpy_avx512_targets()),  # NumPy's ufunc loops
    }


VARIABLES = tuple(environment("avx2"))


def file_name(name, level):
    """Where a result file of `level` goes: "RESULTS.md" native, "RESULTS-avx2.md" restricted,
    so that both can live side by side."""
    if level == "native":
        return name
    stem, dot, extension = name.rpartition(".")
    return f"{stem}-{level}{dot}{extension}"


# ---------------------------------------------------------------- in the probe worker

def probe():
    """What each library reports it runs with in this process's environment:
    {"ember": {...}, "torch": {...}, "numpy": {...}}, each {"error": ...} if it failed."""
    reported = {}
    for name, read in (("numpy", _numpy_reports), ("ember", _ember_reports),
                       ("torch", _torch_reports)):
        try:
            reported[name] = read()
        except Exception as error:  # e.g. EMBER_ISA names a level this build lacks
            reported[name] = {"error": f"{type(error).__name__}: {error}"}
    return reported


def _numpy_reports():
    umath = _numpy_umath()
    return {"openblas": _openblas_corename(),
            "simd": [t for t in umath.__cpu_dispatch__ if umath.__cpu_features__.get(t)]}


def _openblas_corename():
    """The core type OpenBLAS chose ("SkylakeX", "Haswell", ...), None without OpenBLAS."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    for path in paths:
        library = ctypes.CDLL(path)
        for symbol in ("openblas_get_corename", "openblas_get_corename64_",
                       "scipy_openblas_get_corename64_", "scipy_openblas_get_corename"):
            function = getattr(library, symbol, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return None


def _ember_reports():
    import ember

    config = ember_config(ember)
    return {"isa": config.get("isa"), "description": config.get("isa_description")}


def _torch_reports():
    # oneDNN and MKL name the instruction set they dispatch to only in their verbose output,
    # which they print to the C stdout on their first call.
    os.environ.update(ONEDNN_VERBOSE="1", MKL_VERBOSE="1")
    import torch

    with _c_stdout() as lines:
        torch.nn.functional.conv2d(torch.ones(8, 4, 16, 16), torch.ones(8, 4, 3, 3))
        torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    onednn = next((line.split("isa:", 1)[1] for line in lines
                   if line.startswith("onednn_verbose") and ",isa:" in line), None)
    mkl = next((line for line in lines
                if line.startswith("MKL_VERBOSE") and "processors" in line), None)
    if mkl is not None:  # "... for Intel(R) 64 architecture <code path> processors, Lnx ..."
        mkl = mkl.split(" architecture ", 1)[-1].split(", ", 1)[0]
    return {"aten": torch.backends.cpu.get_cpu_capability(), "onednn": onednn, "mkl": mkl}


@contextlib.contextmanager
def _c_stdout():
    """Collects what C code prints to file descriptor 1 meanwhile (into the yielded list)."""
    lines = []
    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile(mode="w+") as captured:
        os.dup2(captured.fileno(), 1)
        try:
            yield lines
        finally:
            ctypes.CDLL(None).fflush(None)
            os.dup2(saved, 1)
            os.close(saved)
            captured.seek(0)
            lines += captured.read().splitlines()


# ---------------------------------------------------------------- in the report

def _names_avx512(text):
    return "512" in text or "AMX" in text


# (library, the part restricted, its variable, its key in probe(), whether a reported value
# keeps to AVX2: True, False (the variable was ignored) or None (it names no instruction set))
_CHECKS = (
    ("ember", "ember's kernels", "EMBER_ISA", "isa", lambda v: v == "avx2"),
    ("torch", "PyTorch's ATen kernels", "ATEN_CPU_CAPABILITY", "aten",
     lambda v: v.lower() == "avx2"),
    ("torch", "PyTorch's oneDNN (convolutions, nn.LSTM)", "ONEDNN_MAX_CPU_ISA", "onednn",
     lambda v: not _names_avx512(v)),
    ("torch", "PyTorch's MKL (GEMM)", "MKL_ENABLE_INSTRUCTIONS", "mkl",
     lambda v: False if _names_avx512(v) else (True if "AVX2" in v else None)),
    ("numpy", "NumPy's OpenBLAS (matmul)", "OPENBLAS_CORETYPE", "openblas",
     lambda v: v.lower() == "haswell"),
    ("numpy", "NumPy's SIMD loops", "NPY_DISABLE_CPU_FEATURES", "simd",
     lambda targets: not any(t.startswith(_NUMPY_AVX512) for t in targets)),
)


def checks(level, reported):
    """(part, variable, what the library reported, followed) for each part of a library that
    `--isa` restricts; followed is True, False (the variable was ignored) or None (native, not
    measured, or the library names no instruction set)."""
    rows = []
    for library, part, variable, key, keeps_to_avx2 in _CHECKS:
        measured = reported.get(library) or {"error": reported.get("error", "not measured")}
        value = measured.get(key)
        if "error" in measured or value is None:
            shown = f"not reported ({measured.get('error', 'no answer')})"
            rows.append((part, variable, shown, None))
            continue
        shown = (", ".join(value) or "baseline only") if isinstance(value, list) else value
        rows.append((part, variable, shown,
                     None if level == "native" else keeps_to_avx2(value)))
    return rows
