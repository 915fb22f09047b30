"""`import ember` stays fast: the heavy, optional parts load on first use (issue 7: ≤ 0.15 s)."""
import subprocess
import sys

# Loaded on first use, not by `import ember`.
DEFERRED = ["ember.nn", "ember.optim", "ember.serialization", "ember.keras", "ember.utils",
            "multiprocessing", "safetensors"]


def _modules_after(code):
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_ember_defers_optional_parts():
    loaded = _modules_after("import ember")
    assert [m for m in DEFERRED if m in loaded] == []


def test_deferred_parts_load_on_first_use():
    loaded = _modules_after("import ember\nember.nn.Linear(2, 3)\nember.optim.SGD\n"
                            "ember.save({'a': ember.ones(2)}, __import__('io').BytesIO())")
    assert {"ember.nn", "ember.optim", "ember.serialization"} <= loaded
    loaded = _modules_after("import ember.nn as nn\nfrom ember import optim\nassert nn.Linear\n"
                            "assert optim.Adam")
    assert {"ember.nn", "ember.optim"} <= loaded
