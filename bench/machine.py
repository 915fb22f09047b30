"""What the report says about the machine: CPU, instruction sets, versions, and how busy the
machine was while the suite ran."""

import os
import platform
import resource
import subprocess

# lscpu flags worth naming, in the order of the instruction-set levels they belong to.
ISA_FLAGS = ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni", "avx512_bf16",
             "amx_tile", "avx2", "fma")


def lscpu():
    """lscpu's "key: value" lines as a dict ({} where lscpu is missing)."""
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return {}
    return dict((key.strip(), value.strip()) for key, _, value in
                (line.partition(":") for line in output.splitlines()) if value)


def cpu_description():
    info = lscpu()
    name = info.get("Model name", platform.processor() or platform.machine())
    family = f"CPU family {info['CPU family']}, model {info['Model']}" \
        if "CPU family" in info and "Model" in info else "family unknown"
    flags = set(info.get("Flags", "").split())
    isa = [flag for flag in ISA_FLAGS if flag in flags]
    return (f"{name} ({family}; {os.cpu_count()} logical CPUs"
            + (f", {info['Hypervisor vendor']} guest" if "Hypervisor vendor" in info else "")
            + "); instruction sets in lscpu flags: " + (", ".join(isa) or "none of "
                                                         + ", ".join(ISA_FLAGS)))


def system_description():
    return (f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def cpu_seconds():
    """(busy CPU-seconds of the whole machine, CPU-seconds of this driver and its children)."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")
    own = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return busy, sum(r.ru_utime + r.ru_stime for r in own)


def foreign_cpu_share(start, end, seconds):
    """Share of the machine's CPUs that other processes used between two cpu_seconds()."""
    if start is None or end is None or seconds <= 0:
        return None
    foreign = (end[0] - start[0]) - (end[1] - start[1])
    return max(foreign, 0.0) / (seconds * (os.cpu_count() or 1))
