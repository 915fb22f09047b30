"""Whether the tests run under tools/sanitize.sh, which preloads the AddressSanitizer runtime:
its allocator replaces glibc's malloc, and its shadow memory reserves terabytes of address
space, so tests of malloc tuning or of address-space caps cannot hold there (the release
suite runs them)."""
import os

import pytest

UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")


def skip_under_asan(why):
    return pytest.mark.skipif(UNDER_ASAN, reason=f"under AddressSanitizer, {why}")
