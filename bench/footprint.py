"""`import ember` (and, for reference, `import torch`) time and memory, each in a fresh
interpreter: the median of several imports."""

import json
import statistics
import subprocess
import sys

# Run as `python -c SNIPPET module skip_rebuild`. An editable install built with
# `-Ceditable.rebuild=true` checks the C++ build on every `import ember`; that check is not
# what a user's installed wheel pays, so it is timed both ways.
_SNIPPET = """
import json, resource, sys, time
rebuild_checks = [f for f in sys.meta_path if getattr(f, "rebuild_flag", False)]
if sys.argv[2] == "1":
    for finder in rebuild_checks:
        finder.rebuild_flag = False
start = time.perf_counter()
__import__(sys.argv[1])
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "editable_rebuild": bool(rebuild_checks),
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _import_once(module, skip_rebuild):
    result = subprocess.run([sys.executable, "-c", _SNIPPET, module, str(int(skip_rebuild))],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        return {"error": (result.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def import_times(module, repeats, skip_rebuild=False):
    """{"seconds": median, "rss_mb": median peak RSS after the import, "editable_rebuild":
    whether an editable rebuild check ran (or was skipped)} or {"error": ...}."""
    runs = [_import_once(module, skip_rebuild) for _ in range(repeats)]
    failed = [r for r in runs if "error" in r]
    if failed:
        return failed[0]
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "rss_mb": statistics.median(r["rss_mb"] for r in runs),
            "editable_rebuild": runs[0]["editable_rebuild"], "repeats": repeats}
