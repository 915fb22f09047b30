"""Keep glibc malloc from handing a training step's memory back to the kernel between steps.

Each step allocates and frees the same few megabyte-sized arrays. With glibc's defaults the
freed top of the heap is trimmed (returned to the kernel) once it exceeds twice the largest
array seen, so the next step page-faults all of it in again: about 9% of a Keras-CNN training
step went to zeroing fresh pages (measured with perf). Raising the trim threshold to 128 MiB and
fixing the mmap threshold at glibc's own ceiling (32 MiB) keeps those pages mapped; a process
then holds at most 128 MiB of freed heap.

Nothing changes when the user set any MALLOC_* tunable (their choice wins), when
EMBER_TUNE_MALLOC=0, or on a C library other than glibc.
"""
import ctypes
import os

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD = 128 << 20
MMAP_THRESHOLD = 32 << 20


def _is_glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def _user_tunes_malloc(environ) -> bool:
    return (environ.get("EMBER_TUNE_MALLOC", "1").strip() == "0"
            or any(name.startswith("MALLOC_") or name == "GLIBC_TUNABLES" for name in environ))


def tune_malloc(environ=os.environ) -> bool:
    """Apply the thresholds above; True when they were applied."""
    if not _is_glibc():
        return False
    if _user_tunes_malloc(environ):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


TUNED = tune_malloc()
