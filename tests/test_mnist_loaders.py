"""ember.datasets.load_mnist (IDX files) and keras.datasets.mnist.load_data (mnist.npz)."""
import gzip
import struct

import numpy as np
import pytest

from ember.datasets import load_mnist
from ember.keras.datasets import mnist

NAMES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
         "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def _idx(array, magic=None, dims=None):
    magic = (0x0800 | array.ndim) if magic is None else magic
    dims = array.shape if dims is None else dims
    return struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + array.tobytes()


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"train_images": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
            "train_labels": rng.integers(0, 10, 6, dtype=np.uint8),
            "test_images": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
            "test_labels": rng.integers(0, 10, 3, dtype=np.uint8)}


def _write(folder, arrays, gzipped=(), override=None):
    override = override or {}
    for key, name in NAMES.items():
        data = override.get(key, _idx(arrays[key]))
        if key in gzipped:
            (folder / (name + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.mark.parametrize("gzipped", [(), tuple(NAMES), ("train_images", "test_labels")])
def test_load_mnist_round_trip(tmp_path, gzipped):
    arrays = _arrays()
    _write(tmp_path, arrays, gzipped)
    (x_train, y_train), (x_test, y_test) = load_mnist(tmp_path)
    for got, key in ((x_train, "train_images"), (y_train, "train_labels"),
                     (x_test, "test_images"), (y_test, "test_labels")):
        assert got.dtype == np.uint8 and got.flags.writeable
        np.testing.assert_array_equal(got, arrays[key])
    assert x_train.shape == (6, 28, 28) and y_test.shape == (3,)


@pytest.mark.parametrize("gzipped", [False, True])
def test_load_mnist_truncated_and_oversized(tmp_path, gzipped):
    arrays = _arrays()
    whole = _idx(arrays["train_images"])
    gz = ("train_images",) if gzipped else ()
    _write(tmp_path, arrays, gz, {"train_images": whole[:-10]})
    with pytest.raises(ValueError, match=rf"train-images-idx3-ubyte.*truncated.*promises "
                                         rf"{len(whole)} bytes.*holds {len(whole) - 10} bytes"):
        load_mnist(tmp_path)
    _write(tmp_path, arrays, gz, {"train_images": whole + b"\0" * 7})
    with pytest.raises(ValueError, match=rf"longer than its header says.*promises {len(whole)} "
                                         rf"bytes.*holds {len(whole) + 7} bytes"):
        load_mnist(tmp_path)


def test_load_mnist_header_claiming_a_billion_images(tmp_path):
    arrays = _arrays()
    _write(tmp_path, arrays, ("train_images",), {
        "train_images": _idx(arrays["train_images"], dims=(10**9, 28, 28))})
    with pytest.raises(ValueError, match=r"truncated: its header \(1000000000, 28, 28\) promises "
                                         r"784000000016 bytes"):
        load_mnist(tmp_path)


@pytest.mark.parametrize("key,data,message", [
    ("train_labels", b"\0\0\x08\x01\0\0", "truncated: expected a 8-byte header"),
    ("train_labels", b"\0\0", "too short for an IDX header"),
    ("test_images", _idx(np.zeros((2, 28, 28), np.uint8), magic=0x00000903),
     r"not an IDX file of unsigned bytes: magic number 0x00000903, expected 0x00000803"),
    ("test_images", _idx(np.zeros((2, 784), np.uint8)),
     r"t10k-images-idx3-ubyte has 2 dimensions \(magic 0x00000802\), expected 3"),
    ("train_labels", _idx(np.zeros((6, 1), np.uint8)), "has 2 dimensions"),
    ("train_labels", _idx(np.zeros(5, np.uint8)), "holds 6 images but .* holds 5 labels"),
    ("test_labels", _idx(np.array([1, 10, 2], np.uint8)),
     "t10k-labels-idx1-ubyte holds label 10 at position 1; MNIST labels are 0..9"),
])
def test_load_mnist_bad_files(tmp_path, key, data, message):
    _write(tmp_path, _arrays(), override={key: data})
    with pytest.raises(ValueError, match=message):
        load_mnist(tmp_path)


def test_load_mnist_missing_file(tmp_path):
    _write(tmp_path, _arrays())
    (tmp_path / NAMES["test_labels"]).unlink()
    with pytest.raises(FileNotFoundError, match=r"t10k-labels-idx1-ubyte or "
                                                r"t10k-labels-idx1-ubyte.gz(.|\n)*\(missing\)"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_mnist(tmp_path / "nowhere")


def test_load_mnist_bad_gzip(tmp_path):
    _write(tmp_path, _arrays())
    (tmp_path / NAMES["train_labels"]).unlink()
    (tmp_path / (NAMES["train_labels"] + ".gz")).write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="cannot read train-labels-idx1-ubyte.gz"):
        load_mnist(tmp_path)


# ---- keras.datasets.mnist.load_data ------------------------------------------------------------

def _npz_arrays():
    a = _arrays(1)
    return {"x_train": a["train_images"], "y_train": a["train_labels"],
            "x_test": a["test_images"], "y_test": a["test_labels"]}


def test_keras_load_data_from_keras_home(tmp_path, monkeypatch):
    arrays = _npz_arrays()
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "mnist.npz", **arrays)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])
    assert x_test.dtype == np.uint8 and y_train.shape == (6,)


def test_keras_load_data_default_home_and_absolute_path(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    folder = tmp_path / ".keras" / "datasets"
    folder.mkdir(parents=True)
    np.savez_compressed(folder / "digits.npz", **_npz_arrays())
    assert mnist.load_data("digits.npz")[0][0].shape == (6, 28, 28)
    elsewhere = tmp_path / "elsewhere.npz"
    np.savez(elsewhere, **_npz_arrays())
    assert mnist.load_data(str(elsewhere))[1][1].shape == (3,)


def test_keras_load_data_missing_file_says_where(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    expected = str(tmp_path / "datasets" / "mnist.npz")
    with pytest.raises(FileNotFoundError) as info:
        mnist.load_data()
    assert expected in str(info.value) and "ember.datasets.load_mnist" in str(info.value)


@pytest.mark.parametrize("change,message", [
    (lambda a: a.pop("y_test"), "lacks y_test"),
    (lambda a: a.update(x_train=a["x_train"].astype(np.float32)), "x_train has dtype float32"),
    (lambda a: a.update(x_train=a["x_train"].reshape(6, 784)), r"x_train has shape \(6, 784\)"),
    (lambda a: a.update(y_train=a["y_train"][:4]), r"y_train \(4,\)"),
    (lambda a: a.update(x_test=np.zeros((3, 8, 8), np.uint8)), "test images are"),
    (lambda a: a.update(y_test=np.array([0, 1, 12], np.uint8)), "y_test holds label 12"),
])
def test_keras_load_data_validates(tmp_path, change, message):
    arrays = _npz_arrays()
    change(arrays)
    np.savez(tmp_path / "mnist.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        mnist.load_data(str(tmp_path / "mnist.npz"))


def test_keras_load_data_rejects_pickles_and_non_archives(tmp_path):
    arrays = _npz_arrays()
    arrays["x_train"] = np.array([object()] * 6)
    np.savez(tmp_path / "objects.npz", **arrays)
    with pytest.raises(ValueError, match="x_train has dtype object"):
        mnist.load_data(str(tmp_path / "objects.npz"))
    (tmp_path / "junk.npz").write_bytes(b"junk" * 10)
    with pytest.raises(ValueError, match="not a readable .npz archive"):
        mnist.load_data(str(tmp_path / "junk.npz"))


def test_keras_load_data_rejects_hostile_npy_header(tmp_path):
    import zipfile
    header = {"descr": "|u1", "fortran_order": False, "shape": (10**9, 28, 28)}
    with zipfile.ZipFile(tmp_path / "hostile.npz", "w") as archive:
        for key, value in _npz_arrays().items():
            with archive.open(key + ".npy", "w") as member:
                if key == "x_train":
                    np.lib.format.write_array_header_1_0(member, header)
                    member.write(value.tobytes())
                else:
                    np.lib.format.write_array(member, value)
    with pytest.raises(ValueError, match=r"x_train's header promises 7840000001\d\d bytes but "
                                         r"the archive member holds 4832 bytes"):
        mnist.load_data(str(tmp_path / "hostile.npz"))
