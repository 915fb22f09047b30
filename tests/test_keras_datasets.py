"""keras.datasets read from Keras' cache layout: each test writes small files where Keras keeps
them and compares ember's arrays (values, dtypes, shapes, order) with real Keras' on the same
files. Real Keras would re-download files whose hash differs from the real dataset's, so its
hash check is patched out there; ember's expected hashes are set to the test files' own."""
import gzip
import hashlib
import io
import os
import pickle
import struct
import tarfile

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras


def _sha256(path):
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """KERAS_HOME for ember and real Keras (when installed); returns the datasets folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


def _real_keras_on(cache, monkeypatch):
    keras = real_keras()
    from keras.src.backend import config
    from keras.src.utils import file_utils
    monkeypatch.setattr(config, "_KERAS_DIR", str(cache.parent))
    monkeypatch.setattr(file_utils, "validate_file", lambda *args, **kwargs: True)
    return keras


def _expect_hash(monkeypatch, module, path, name="FILE_HASH"):
    monkeypatch.setattr(module, name, _sha256(path))


def _assert_same(ours, theirs):
    assert type(ours) is type(theirs)
    if isinstance(ours, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    elif isinstance(ours, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        if ours.dtype == object:
            assert [list(x) if not isinstance(x, list) else x for x in ours.ravel()] == \
                [list(x) if not isinstance(x, list) else x for x in theirs.ravel()]
        else:  # (np.array_equal: assert_array_equal takes seconds on full-size CIFAR)
            assert np.array_equal(ours, theirs)
    else:
        assert ours == theirs


def _sequences(rng, count, vocabulary=60, longest=12):
    seqs = np.empty(count, dtype=object)
    for i in range(count):
        seqs[i] = [int(w) for w in rng.integers(0, vocabulary, rng.integers(1, longest))]
    return seqs


# ---------------------------------------------------------------- imdb and reuters

def _write_imdb(cache, rng):
    np.savez(cache / "imdb.npz", x_train=_sequences(rng, 30),
             y_train=rng.integers(0, 2, 30), x_test=_sequences(rng, 20),
             y_test=rng.integers(0, 2, 20))
    return cache / "imdb.npz"


IMDB_CASES = [
    {},
    {"num_words": 30, "skip_top": 5},
    {"maxlen": 8, "seed": 7},
    {"start_char": None, "oov_char": None, "index_from": 0, "num_words": 20},
    {"oov_char": None, "skip_top": 10, "start_char": 4, "index_from": 5},
]


@pytest.mark.parametrize("kwargs", IMDB_CASES)
def test_imdb_matches_real_keras(cache, monkeypatch, kwargs):
    rng = np.random.default_rng(0)
    path = _write_imdb(cache, rng)
    _expect_hash(monkeypatch, ek.datasets.imdb, path)
    ours = ek.datasets.imdb.load_data(**kwargs)
    keras = _real_keras_on(cache, monkeypatch)
    _assert_same(ours, keras.datasets.imdb.load_data(**kwargs))


def test_imdb_word_index_and_errors(cache, monkeypatch):
    (cache / "imdb_word_index.json").write_text('{"the": 1, "movie": 17}')
    with pytest.raises(ValueError, match="does not match file_hash"):
        ek.datasets.imdb.get_word_index()  # Keras' own md5 is for the real file
    monkeypatch.setattr(ek.datasets.imdb, "WORD_INDEX_HASH",
                        hashlib.md5((cache / "imdb_word_index.json").read_bytes()).hexdigest())
    assert ek.datasets.imdb.get_word_index() == {"the": 1, "movie": 17}
    with pytest.raises(FileNotFoundError, match="imdb.npz"):
        ek.datasets.imdb.load_data()
    _write_imdb(cache, np.random.default_rng(1))
    with pytest.raises(ValueError, match="does not match file_hash"):
        ek.datasets.imdb.load_data()
    _expect_hash(monkeypatch, ek.datasets.imdb, cache / "imdb.npz")
    with pytest.raises(ValueError, match="no sequence was kept"):
        ek.datasets.imdb.load_data(maxlen=1)
    with pytest.raises(TypeError):
        ek.datasets.imdb.load_data(nb_words=10)


@pytest.mark.parametrize("kwargs", [
    {}, {"num_words": 25, "test_split": 0.3}, {"maxlen": 9, "seed": 3, "skip_top": 4},
    {"start_char": None, "index_from": 0, "oov_char": None}])
def test_reuters_matches_real_keras(cache, monkeypatch, kwargs):
    rng = np.random.default_rng(2)
    np.savez(cache / "reuters.npz", x=_sequences(rng, 40), y=rng.integers(0, 46, 40))
    _expect_hash(monkeypatch, ek.datasets.reuters, cache / "reuters.npz")
    ours = ek.datasets.reuters.load_data(**kwargs)
    keras = _real_keras_on(cache, monkeypatch)
    _assert_same(ours, keras.datasets.reuters.load_data(**kwargs))
    assert ek.datasets.reuters.get_label_names() == keras.datasets.reuters.get_label_names()


class _Shell:
    """Pickles as a call to os.system: what a hostile dataset file would hold."""

    def __reduce__(self):
        return os.system, ("echo pwned",)


def test_a_pickle_naming_other_code_is_refused(cache, monkeypatch):
    hostile = np.empty(2, dtype=object)
    hostile[0], hostile[1] = [1, 2], _Shell()
    np.savez(cache / "reuters.npz", x=hostile, y=np.array([0, 1]))
    _expect_hash(monkeypatch, ek.datasets.reuters, cache / "reuters.npz")
    with pytest.raises(ValueError, match="refusing to load posix.system"):
        ek.datasets.reuters.load_data()


@pytest.mark.parametrize("element", [["word"], [3, -1], [True], (1, 2), [1.0]])
def test_word_lists_must_be_lists_of_ids(cache, monkeypatch, element):
    odd = np.empty(2, dtype=object)
    odd[0], odd[1] = [1, 2], element
    np.savez(cache / "reuters.npz", x=odd, y=np.array([0, 1]))
    _expect_hash(monkeypatch, ek.datasets.reuters, cache / "reuters.npz")
    with pytest.raises(ValueError, match="element 1 is not a list"):
        ek.datasets.reuters.load_data()


# ---------------------------------------------------------------- housing

@pytest.mark.parametrize("name, kwargs", [
    ("boston_housing", {}), ("boston_housing", {"test_split": 0.5, "seed": 1}),
    ("california_housing", {}), ("california_housing", {"version": "small", "test_split": 0}),
])
def test_housing_matches_real_keras(cache, monkeypatch, name, kwargs):
    rng = np.random.default_rng(3)
    features = 13 if name == "boston_housing" else 8
    np.savez(cache / f"{name}.npz", x=rng.normal(size=(700, features)),
             y=rng.normal(size=700).astype(np.float32))
    module = getattr(ek.datasets, name)
    _expect_hash(monkeypatch, module, cache / f"{name}.npz")
    ours = module.load_data(**kwargs)
    keras = _real_keras_on(cache, monkeypatch)
    _assert_same(ours, getattr(keras.datasets, name).load_data(**kwargs))


def test_housing_arguments_and_lying_headers(cache, monkeypatch):
    with pytest.raises(ValueError, match="test_split"):
        ek.datasets.boston_housing.load_data(test_split=1)
    np.savez(cache / "california_housing.npz", x=np.zeros((4, 8)), y=np.zeros(4))
    _expect_hash(monkeypatch, ek.datasets.california_housing, cache / "california_housing.npz")
    with pytest.raises(ValueError, match="version"):
        ek.datasets.california_housing.load_data(version="medium")
    # A header promising 10**12 rows must be refused before anything is allocated.
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**12, 8)})
    import zipfile
    with zipfile.ZipFile(cache / "california_housing.npz", "w") as archive:
        archive.writestr("x.npy", buffer.getvalue() + b"\0" * 64)
        archive.writestr("y.npy", buffer.getvalue())
    _expect_hash(monkeypatch, ek.datasets.california_housing, cache / "california_housing.npz")
    with pytest.raises(ValueError, match="header promises"):
        ek.datasets.california_housing.load_data()


# ---------------------------------------------------------------- fashion_mnist

def _idx_gz(path, magic, array):
    with gzip.open(path, "wb") as file:
        file.write(struct.pack(">I", magic) + struct.pack(">" + "I" * array.ndim, *array.shape))
        file.write(array.astype(np.uint8).tobytes())


def test_fashion_mnist_matches_real_keras(cache, monkeypatch):
    rng = np.random.default_rng(4)
    folder = cache / "fashion-mnist"
    folder.mkdir()
    for split, count in (("train", 12), ("t10k", 5)):
        _idx_gz(folder / f"{split}-labels-idx1-ubyte.gz", 2049, rng.integers(0, 10, count))
        _idx_gz(folder / f"{split}-images-idx3-ubyte.gz", 2051,
                rng.integers(0, 256, (count, 28, 28)))
    ours = ek.datasets.fashion_mnist.load_data()
    assert ours[0][0].shape == (12, 28, 28) and ours[1][1].shape == (5,)
    keras = _real_keras_on(cache, monkeypatch)
    _assert_same(ours, keras.datasets.fashion_mnist.load_data())
    _idx_gz(folder / "t10k-images-idx3-ubyte.gz", 2051, rng.integers(0, 256, (4, 28, 28)))
    with pytest.raises(ValueError, match="not 28x28"):
        ek.datasets.fashion_mnist.load_data()


def test_fashion_mnist_absent_names_its_folder(cache):
    with pytest.raises(FileNotFoundError) as info:
        ek.datasets.fashion_mnist.load_data()
    assert os.path.join(cache, "fashion-mnist", "train-labels-idx1-ubyte.gz") in str(info.value)


# ---------------------------------------------------------------- cifar

def _batch(data, **labels):
    """A CIFAR batch shaped as the Python 2 originals unpickle with encoding="bytes"."""
    content = {b"batch_label": b"testing batch", b"data": data,
               b"filenames": [b"img_%d.png" % i for i in range(len(data))]}
    content.update({key.encode(): value for key, value in labels.items()})
    return pickle.dumps(content, protocol=3)  # bytes as BINBYTES, not _codecs.encode calls


def _tar_of(path, files):
    with tarfile.open(path, "w") as archive:  # uncompressed: the big cifar10 test stays fast
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_matches_real_keras(cache, monkeypatch, label_mode):
    rng = np.random.default_rng(5)
    files = {}
    for name, count in (("train", 6), ("test", 3)):
        files[f"cifar-100-python/{name}"] = _batch(
            rng.integers(0, 256, (count, 3072)).astype(np.uint8),
            fine_labels=[int(v) for v in rng.integers(0, 100, count)],
            coarse_labels=[int(v) for v in rng.integers(0, 20, count)])
    _tar_of(cache / "cifar-100-python-target_archive", files)
    _expect_hash(monkeypatch, ek.datasets.cifar100, cache / "cifar-100-python-target_archive")
    ours = ek.datasets.cifar100.load_data(label_mode)
    assert ours[0][0].shape == (6, 32, 32, 3) and ours[1][1].shape == (3, 1)
    keras = _real_keras_on(cache, monkeypatch)
    _assert_same(ours, keras.datasets.cifar100.load_data(label_mode))
    with pytest.raises(ValueError, match="label_mode"):
        ek.datasets.cifar100.load_data("medium")


def test_cifar10_matches_real_keras_at_full_size(cache, monkeypatch):
    """Keras' reader assumes 10000 images per batch, so this one is full size."""
    pattern = (np.arange(10000 * 3072) % 251).astype(np.uint8).reshape(10000, 3072)
    files = {f"cifar-10-batches-py/data_batch_{i}": _batch(
        np.roll(pattern, i, axis=0), labels=[(j * i) % 10 for j in range(10000)])
        for i in range(1, 6)}
    files["cifar-10-batches-py/test_batch"] = _batch(
        pattern[::-1].copy(), labels=[j % 10 for j in range(10000)])
    _tar_of(cache / "cifar-10-batches-py-target_archive", files)
    del files
    _expect_hash(monkeypatch, ek.datasets.cifar10, cache / "cifar-10-batches-py-target_archive")
    ours = ek.datasets.cifar10.load_data()
    assert ours[0][0].shape == (50000, 32, 32, 3) and ours[0][1].dtype == np.uint8
    keras = _real_keras_on(cache, monkeypatch)
    _assert_same(ours, keras.datasets.cifar10.load_data())


@pytest.mark.parametrize("content, match", [
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}), "integers in"),
    (pickle.dumps({b"data": np.zeros((2, 30), np.uint8), b"labels": [0, 1]}), "uint8 \\(N, 3072"),
    (pickle.dumps([1, 2]), "dict"),
    (pickle.dumps({b"data": _Shell()}), "refusing to load posix.system"),
    (b"not a pickle", "cannot read it safely"),
])
def test_a_bad_cifar_batch_is_refused(cache, monkeypatch, content, match):
    files = {f"cifar-10-batches-py/data_batch_{i}": content for i in range(1, 6)}
    files["cifar-10-batches-py/test_batch"] = content
    _tar_of(cache / "cifar-10-batches-py-target_archive", files)
    _expect_hash(monkeypatch, ek.datasets.cifar10, cache / "cifar-10-batches-py-target_archive")
    with pytest.raises(ValueError, match=match):
        ek.datasets.cifar10.load_data()
