"""Instruction-set levels: the kernel module choice, EMBER_ISA, show_config, and the kernel
tests passing on every level this machine builds and runs."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ember
from ember import _core

TESTS = Path(__file__).resolve().parent
KERNEL_TESTS = sorted(str(p) for p in TESTS.glob("test_*_kernels.py")) + [
    str(TESTS / "test_embedding.py")]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "EMBER_ISA"}
    env.update(extra)
    return env


def _run_python(code, **env):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(**env), timeout=300)


def test_the_best_supported_level_is_loaded_by_default():
    result = _run_python("import ember; print(ember._core.ISA)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == _core.SUPPORTED[-1]


def test_the_loaded_level_is_built_and_supported():
    assert _core.ISA in _core.SUPPORTED and set(_core.SUPPORTED) <= set(_core.BUILT)
    assert _core.build_info()["isa"] == _core.ISA


@pytest.mark.parametrize("level", _core.SUPPORTED)
def test_ember_isa_forces_a_level(level):
    result = _run_python("import ember; print(ember._core.ISA, ember._core.build_info()['isa'])",
                         EMBER_ISA=level)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [level, level]


def test_choose_level_rules():
    choose = _core.choose_level
    assert choose("", ("generic", "avx2"), ("generic", "avx2")) == "avx2"
    assert choose(" generic ", ("generic", "avx2"), ("generic", "avx2")) == "generic"
    with pytest.raises(ImportError, match="'sse9' is not a level; use one of generic, avx2, avx512"):
        choose("sse9", ("generic",), ("generic",))
    with pytest.raises(ImportError, match="EMBER_ISA=avx512 but this ember was built without it "
                                          r"\(built: generic, avx2\)"):
        choose("avx512", ("generic", "avx2"), ("generic", "avx2"))
    with pytest.raises(ImportError, match=r"EMBER_ISA=avx512 but this CPU cannot run it "
                                          r"\(it runs: generic, avx2\)"):
        choose("avx512", ("generic", "avx2", "avx512"), ("generic", "avx2"))
    with pytest.raises(ImportError, match="no kernel module this CPU can run"):
        choose("", ("avx512",), ())


def test_a_bad_ember_isa_stops_the_import_with_its_reason():
    result = _run_python("import ember", EMBER_ISA="avx9000")
    assert result.returncode != 0
    assert "EMBER_ISA='avx9000' is not a level" in result.stderr


def test_show_config_dicts():
    info = ember.show_config(mode="dicts")
    assert info["isa"] == _core.ISA and info["ember"] == ember.__version__
    assert info["isa_built"] == list(_core.BUILT) and info["isa_supported"] == list(_core.SUPPORTED)
    assert info["num_threads"] == ember.get_num_threads()
    assert info["eigen"].startswith("3.") and info["openmp"][0].isdigit()
    assert info["cpu"] and info["compiler"]
    if _core.ISA == "avx512":
        assert "-march=x86-64-v4" in info["compile_flags"] and "AVX512" in info["eigen_simd"]
    elif _core.ISA == "avx2":
        assert "-march=x86-64-v3" in info["compile_flags"] and "AVX2" in info["eigen_simd"]


def test_show_config_prints(capsys):
    assert ember.show_config() is None
    out = capsys.readouterr().out
    assert out.startswith(f"ember {ember.__version__}")
    assert f"instruction set: {_core.ISA}" in out and "Eigen" in out and "OpenMP" in out


def test_show_config_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="show_config: mode must be 'stdout' or 'dicts'"):
        ember.show_config(mode="json")


# The chosen level runs the whole suite; the others run every kernel test file here, so each
# compiled level is checked against the same NumPy references and gradient checks.
@pytest.mark.parametrize("level", [lv for lv in _core.SUPPORTED if lv != _core.ISA])
def test_kernel_tests_pass_on_every_other_level(level):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *KERNEL_TESTS],
        capture_output=True, text=True, env=_env(EMBER_ISA=level), timeout=900, cwd=TESTS.parent)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
