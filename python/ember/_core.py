"""ember's kernels: the extension module built for the best instruction set this CPU runs.

The C++ sources are compiled once per level (`_core_generic`, `_core_avx2`, `_core_avx512`;
which ones a build holds depends on how it was built). This module loads the best one the CPU
supports, or the one the environment variable EMBER_ISA names, and re-exports its functions,
so the rest of ember only ever imports `ember._core`.
"""
import importlib
import importlib.util
import os

from . import _cpu

LEVELS = ("generic", "avx2", "avx512")  # worst to best
BUILT = tuple(level for level in LEVELS
              if importlib.util.find_spec(f"{__package__}._core_{level}") is not None)
SUPPORTED = tuple(level for level in BUILT if _cpu.supports(level))


def choose_level(forced: str, built=BUILT, supported=SUPPORTED) -> str:
    """The level to load: `forced` (EMBER_ISA) if it is usable, else the best supported one."""
    forced = forced.strip()
    if not forced:
        if not supported:
            raise ImportError("ember: no kernel module this CPU can run was built (built: "
                              f"{', '.join(built) or 'none'}); reinstall ember from source")
        return supported[-1]
    if forced not in LEVELS:
        raise ImportError(f"ember: EMBER_ISA={forced!r} is not a level; use one of "
                          f"{', '.join(LEVELS)}")
    if forced not in built:
        raise ImportError(f"ember: EMBER_ISA={forced} but this ember was built without it "
                          f"(built: {', '.join(built)})")
    if forced not in supported:
        raise ImportError(f"ember: EMBER_ISA={forced} but this CPU cannot run it "
                          f"(it runs: {', '.join(supported)})")
    return forced


ISA = choose_level(os.environ.get("EMBER_ISA", ""))
_kernels = importlib.import_module(f"{__package__}._core_{ISA}")
globals().update({name: getattr(_kernels, name) for name in dir(_kernels)
                  if not name.startswith("__")})
