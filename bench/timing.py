"""Timing inside a worker: median rates over windows, by wall clock and by this process's CPU."""

import statistics
import time


def measure(fn, window, repeats):
    """Calls `fn` for a warm-up window of ~`window` s (which also sets how many calls make a
    window), then for `repeats` windows of that many calls. Returns the median calls per
    wall-clock second and per CPU-second of this process (all its threads, as
    `time.process_time()` counts them)."""
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < window:
        fn()
        calls += 1
    per_wall, per_cpu = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        per_wall.append(calls / wall)
        per_cpu.append(calls / max(cpu, 1e-9))
    return statistics.median(per_wall), statistics.median(per_cpu)
