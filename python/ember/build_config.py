"""ember.show_config(): how this ember was built and what it runs with, like numpy.show_config()."""
import platform

from . import _allocator, _core

_ISA_NAMES = {"generic": "baseline x86-64 (SSE2)", "avx2": "AVX2 + FMA (x86-64-v3)",
              "avx512": "AVX-512 F/BW/CD/DQ/VL (x86-64-v4)"}
_MALLOC = {True: "glibc trim threshold raised (EMBER_TUNE_MALLOC=0 keeps the defaults)",
           False: "the C library's defaults"}
_OPENMP_VERSIONS = {200505: "2.5", 200805: "3.0", 201107: "3.1", 201307: "4.0", 201511: "4.5",
                    201811: "5.0", 202011: "5.1", 202111: "5.2"}


def cpu_model() -> str:
    """The CPU's model name as the operating system reports it."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def config() -> dict:
    from . import __version__, get_num_threads
    built = _core.build_info()
    openmp = built["openmp"]
    return {
        "ember": __version__,
        "isa": _core.ISA,
        "isa_description": _ISA_NAMES.get(_core.ISA, _core.ISA),
        "isa_built": list(_core.BUILT),
        "isa_supported": list(_core.SUPPORTED),
        "cpu": cpu_model(),
        "num_threads": get_num_threads(),
        "openmp": _OPENMP_VERSIONS.get(openmp, str(openmp)),
        "eigen": built["eigen"],
        "eigen_simd": built["eigen_simd"],
        "compiler": built["compiler"],
        "compile_flags": built["flags"],
        "python": platform.python_version(),
        "malloc_tuned": _allocator.TUNED,
    }


def show_config(mode: str = "stdout"):
    """Prints the build and runtime configuration; ``mode="dicts"`` returns it as a dict."""
    if mode not in ("stdout", "dicts"):
        raise ValueError(f"show_config: mode must be 'stdout' or 'dicts'. Received: mode={mode!r}")
    info = config()
    if mode == "dicts":
        return info
    print(f"ember {info['ember']} (Python {info['python']})\n"
          f"  CPU:             {info['cpu']}\n"
          f"  instruction set: {info['isa']}: {info['isa_description']}\n"
          f"  kernels built:   {', '.join(info['isa_built'])}; this CPU runs: "
          f"{', '.join(info['isa_supported'])} (EMBER_ISA chooses one)\n"
          f"  threads:         {info['num_threads']} (OpenMP {info['openmp']})\n"
          f"  Eigen:           {info['eigen']} ({info['eigen_simd']})\n"
          f"  compiler:        {info['compiler']}, {info['compile_flags']}\n"
          f"  malloc:          {_MALLOC[info['malloc_tuned']]}")
    return None
