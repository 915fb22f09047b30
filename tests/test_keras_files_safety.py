"""Loading Keras' files is safe: no code runs (Lambda bytecode only with safe_mode=False,
custom classes only when registered or passed), and corrupt, truncated or hostile files give a
ValueError naming the file, never a crash or an unbounded allocation. Saves are atomic, and
ModelCheckpoint writes Keras' formats."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

from ember import keras as ek

h5py = pytest.importorskip("h5py")


def _model():
    model = ek.Sequential([ek.Input((4,)), ek.layers.Dense(3), ek.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _rewrite(src, dst, replace):
    """A copy of the zip ``src`` with entries replaced (name -> bytes, or None to drop)."""
    with zipfile.ZipFile(src) as archive, zipfile.ZipFile(dst, "w") as out:
        for name in archive.namelist():
            data = replace.get(name, archive.read(name))
            if data is not None:
                out.writestr(name, data)
        for name, data in replace.items():
            if name not in archive.namelist() and data is not None:
                out.writestr(name, data)


def _config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


@pytest.fixture
def saved(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(path)
    return model, path


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 40])
def test_a_file_that_is_no_zip_is_a_value_error(content, tmp_path):
    path = tmp_path / "bad.keras"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.keras"):
        ek.models.load_model(path)


def test_a_truncated_file_is_a_value_error(saved, tmp_path):
    _, path = saved
    cut = tmp_path / "cut.keras"
    cut.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    with pytest.raises(ValueError, match="cut.keras"):
        ek.models.load_model(cut)


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])
def test_a_flipped_byte_is_a_value_error(where, saved, tmp_path):
    """(The zip's CRC catches it; a 550-file random-corruption run of .keras, .weights.h5 and
    .h5 files gave only ValueErrors or clean loads.)"""
    _, path = saved
    data = bytearray(path.read_bytes())
    data[int(len(data) * where)] ^= 0xFF
    bad = tmp_path / "bad.keras"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="bad.keras"):
        ek.models.load_model(bad)


@pytest.mark.parametrize("entry", ["config.json", "model.weights.h5"])
def test_a_missing_entry_is_a_value_error(entry, saved, tmp_path):
    _, path = saved
    bad = tmp_path / "bad.keras"
    _rewrite(path, bad, {entry: None})
    with pytest.raises(ValueError, match=f"bad.keras.*{entry}"):
        ek.models.load_model(bad)


def test_a_zip_bomb_is_refused_before_it_is_inflated(saved, tmp_path):
    _, path = saved
    bad = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path) as archive, \
            zipfile.ZipFile(bad, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("config.json", archive.read("config.json"))
        out.writestr("model.weights.h5", b"\0" * (200 << 20))  # 200 MiB of zeros, ~200 KiB
    with pytest.raises(ValueError, match="bomb.keras.*model.weights.h5.*more than"):
        ek.models.load_model(bad)


@pytest.mark.parametrize("config", [b"{not json", b"[1, 2]", b'{"class_name": 3}',
                                    b'{"class_name": "Sequential", "config": {"layers": 7}}',
                                    b'{"class_name": "Sequential", "config": {"layers": '
                                    + b"[" * 100000 + b"]" * 100000 + b"}}"])
def test_a_malformed_config_is_a_value_error(config, saved, tmp_path):
    _, path = saved
    bad = tmp_path / "bad.keras"
    _rewrite(path, bad, {"config.json": config})
    with pytest.raises(ValueError, match="bad.keras"):
        ek.models.load_model(bad)


def test_a_config_naming_an_unknown_class_is_a_value_error(saved, tmp_path):
    _, path = saved
    config = _config(path)
    config["config"]["layers"][1]["class_name"] = "os.system"
    config["config"]["layers"][1]["module"] = "os"
    bad = tmp_path / "bad.keras"
    _rewrite(path, bad, {"config.json": json.dumps(config).encode()})
    with pytest.raises(ValueError, match="Unknown layer class: 'os.system'"):
        ek.models.load_model(bad)


def _weights_file(path, edit):
    """The model.weights.h5 of ``path`` after ``edit(h5py_file)``, as bytes."""
    with zipfile.ZipFile(path) as archive:
        data = io.BytesIO(archive.read("model.weights.h5"))
    with h5py.File(data, "a") as root:
        edit(root)
    return data.getvalue()


def _replace_dataset(name, value):
    def edit(root):
        del root[name]
        root.create_dataset(name, data=value)
    return edit


def _huge_dataset(name):
    def edit(root):  # 40 GB declared, a few bytes stored (chunks never written)
        del root[name]
        root.create_dataset(name, shape=(100000, 100000), dtype="f4", chunks=(1, 1000))
    return edit


def _link(name, make_link):
    def edit(root):
        del root[name]
        root[name] = make_link()
    return edit


def _external_storage(name):
    def edit(root):  # the array's bytes would come from another file (here /dev/zero)
        del root[name]
        root.create_dataset(name, shape=(4, 3), dtype="f4", external=[("/dev/zero", 0, 48)])
    return edit


@pytest.mark.parametrize("edit, message", [
    (_huge_dataset("layers/dense/vars/0"), "shape mismatch at 'layers/dense/vars/0'"),
    (_link("layers/dense/vars/0", lambda: h5py.ExternalLink("/etc/passwd", "/")),
     "ExternalLink"),
    (_link("layers/dense/vars", lambda: h5py.SoftLink("/layers/dense_1/vars")),
     "SoftLink"),
    (_external_storage("layers/dense/vars/0"), "outside the file"),
    (_replace_dataset("layers/dense/vars/0", np.zeros((4, 3), np.complex64)), "dtype complex64"),
    (_replace_dataset("layers/dense/vars/0", np.zeros((4, 3), "S8")), "dtype .S8"),
    (lambda root: root.__delitem__("layers/dense/vars/1"), "holds 1 variables"),
    (lambda root: root.create_dataset("layers/dense/vars/2", data=np.zeros(3)),
     "holds 3 variables"),
    (lambda root: root.__delitem__("layers/dense_1"), "holds 0 variables"),
], ids=["huge-shape", "external-link", "soft-link", "external-storage", "complex", "bytes", "missing", "extra", "missing-layer"])
def test_hostile_weights_are_checked_against_the_model_before_reading(edit, message, saved,
                                                                         tmp_path):
    _, path = saved
    bad = tmp_path / "bad.keras"
    _rewrite(path, bad, {"model.weights.h5": _weights_file(path, edit)})
    with pytest.raises(ValueError, match=f"bad.keras.*{message}"):
        ek.models.load_model(bad)


def test_garbage_weights_are_a_value_error(saved, tmp_path):
    _, path = saved
    bad = tmp_path / "bad.keras"
    _rewrite(path, bad, {"model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\xff" * 4000})
    with pytest.raises(ValueError, match="bad.keras"):
        ek.models.load_model(bad)
    weights = tmp_path / "bad.weights.h5"
    weights.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\xff" * 4000)
    with pytest.raises(ValueError, match="bad.weights.h5"):
        _model().load_weights(weights)


def test_lambda_layers_load_only_with_safe_mode_off(tmp_path):
    model = ek.Sequential([ek.Input((3,)), ek.layers.Lambda(lambda t: t * 2.0)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="safe_mode"):
        ek.models.load_model(tmp_path / "m.keras")
    loaded = ek.models.load_model(tmp_path / "m.keras", safe_mode=False)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), 2 * x)


def test_custom_classes_load_only_when_registered_or_passed(tmp_path):
    class Scale(ek.layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, x):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = ek.Sequential([ek.Input((3,)), Scale(3.0)])
    model.save(tmp_path / "m.keras")
    with pytest.raises(ValueError, match="Unknown layer class: 'Scale'"):
        ek.models.load_model(tmp_path / "m.keras")
    loaded = ek.models.load_model(tmp_path / "m.keras", custom_objects={"Scale": Scale})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 3), np.float32), verbose=0),
                               np.full((1, 3), 3.0))


def test_a_failed_save_leaves_the_previous_file_whole(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    from ember.keras import keras_h5_weights

    def fail(*args, **kwargs):
        raise RuntimeError("killed while saving")

    monkeypatch.setattr(keras_h5_weights, "write", fail)
    with pytest.raises(RuntimeError, match="killed"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(path.parent)) == ["m.keras"]  # no temporary file left behind


def test_overwrite_false_keeps_an_existing_file(saved):
    model, path = saved
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)
    weights = path.with_name("w.weights.h5")
    weights.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        model.save_weights(weights, overwrite=False)
    assert weights.read_bytes() == b"keep"


@pytest.mark.parametrize("filepath, loader", [
    ("ckpt-{epoch:02d}.keras", "model"), ("ckpt-{epoch:02d}.weights.h5", "weights")])
def test_model_checkpoint_writes_keras_files(filepath, loader, tmp_path):
    model = _model()
    x, y = np.random.rand(8, 4).astype(np.float32), np.random.rand(8, 2).astype(np.float32)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ek.callbacks.ModelCheckpoint(
        str(tmp_path / filepath), save_weights_only=loader == "weights")])
    last = tmp_path / filepath.format(epoch=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == [filepath.format(epoch=1), last.name]
    if loader == "model":
        restored = ek.models.load_model(last)
    else:
        restored = ek.Sequential([ek.Input((4,)), ek.layers.Dense(3), ek.layers.Dense(2)])
        restored.load_weights(last)
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
