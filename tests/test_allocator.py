"""ember raises glibc's malloc trim threshold at import unless the user tunes malloc."""
import os
import subprocess
import sys

import pytest

from ember import _allocator
from sanitizer_env import UNDER_ASAN

glibc_only = pytest.mark.skipif(not _allocator._is_glibc() or UNDER_ASAN,
                                reason="tunes glibc's malloc only (not ASan's allocator)")


@glibc_only
def test_tunes_malloc_by_default():
    assert _allocator.tune_malloc(environ={}) is True


@pytest.mark.parametrize("environ", [{"EMBER_TUNE_MALLOC": "0"},
                                     {"MALLOC_TRIM_THRESHOLD_": "1000"},
                                     {"MALLOC_ARENA_MAX": "2"},
                                     {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1"}])
def test_leaves_malloc_alone_when_the_user_tunes_it(environ):
    assert _allocator.tune_malloc(environ=environ) is False


@glibc_only
@pytest.mark.parametrize("value,tuned", [("0", False), ("1", True)])
def test_show_config_reports_the_choice(value, tuned):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["EMBER_TUNE_MALLOC"] = value
    out = subprocess.run([sys.executable, "-c", "import ember; "
                          "print(ember.show_config(mode='dicts')['malloc_tuned'])"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(tuned)
