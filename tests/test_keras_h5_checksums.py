"""The HDF5 files ember writes (.weights.h5, legacy .h5, the weights inside a .keras zip) carry a
checksum on every dataset: a byte flipped inside any array is a ValueError naming the file and
the dataset, never a silent load. Real Keras 3 reads these files, and Keras' own files (which
carry no checksums) still load into ember."""
import io
import re
import warnings
import zipfile

import numpy as np
import pytest

from ember import keras as ek
from ember.keras import keras_h5_checksums, keras_h5_weights
from keras_reference import real_keras, to_numpy

h5py = pytest.importorskip("h5py")
X = np.random.RandomState(0).rand(5, 4).astype(np.float32)


@pytest.fixture(autouse=True)
def _quiet_real_keras():
    with warnings.catch_warnings():  # real Keras' own __array__ warning under NumPy 2, and its
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        warnings.filterwarnings("ignore", "You are saving your model as an HDF5 file")
        yield


def _model(keras=ek, compile=True):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"),
                              keras.layers.Dense(2)])
    if compile:  # (a loss object: Keras 3.15 cannot reload a legacy .h5 compiled with "mse")
        model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError())
    return model


def _trained():
    model = _model()
    model.fit(X, np.ones((5, 2), np.float32), epochs=1, verbose=0)  # optimizer slots non-zero
    return model


def _datasets(root):
    found = []
    root.visititems(lambda name, item: found.append(item) if isinstance(item, h5py.Dataset)
                    else None)
    return found


def _data_region(dataset):
    """(byte offset in the file, byte count) of the dataset's stored data."""
    if dataset.chunks is None:
        return dataset.id.get_offset(), dataset.id.get_storage_size()
    assert dataset.id.get_num_chunks() == 1  # (small arrays: one chunk each)
    info = dataset.id.get_chunk_info(0)
    return info.byte_offset, info.size


def _flip_inside(data: bytes, dataset_name: str) -> bytes:
    """``data`` (an HDF5 file's bytes) with one byte flipped in the middle of a dataset's data."""
    with h5py.File(io.BytesIO(data), "r") as root:
        offset, size = _data_region(root[dataset_name])
    out = bytearray(data)
    out[offset + size // 2] ^= 0xFF
    return bytes(out)


def _dataset_names(data: bytes, under: str = "/"):
    with h5py.File(io.BytesIO(data), "r") as root:
        return [d.name for d in _datasets(root[under])]


def _save(model, tmp_path, name):
    path = tmp_path / name
    if name.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)
    return path


def _hdf5_bytes(path) -> bytes:
    """The HDF5 file itself: the file, or a .keras zip's model.weights.h5."""
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            return archive.read("model.weights.h5")
    return path.read_bytes()


@pytest.mark.parametrize("name", ["m.weights.h5", "m.h5", "m.keras"])
def test_every_dataset_ember_writes_has_a_checksum(name, tmp_path):
    path = _save(_trained(), tmp_path, name)
    data = _hdf5_bytes(path)
    with h5py.File(io.BytesIO(data), "r") as root:
        datasets = _datasets(root)
        assert len(datasets) >= 4 + 2  # (kernels and biases, then the optimizer's variables)
        for dataset in datasets:
            # HDF5 filters chunked data only: a scalar has its values' CRC-32 alone
            assert dataset.fletcher32 == bool(dataset.ndim and dataset.size), dataset.name
            assert keras_h5_checksums.CRC_ATTRIBUTE in dataset.attrs, dataset.name
        assert any(d.ndim == 0 for d in datasets)  # (Adam's iteration count)


def _rezip(path, dst, weights: bytes):
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(dst, "w") as out:
        for entry in archive.namelist():
            out.writestr(entry, weights if entry == "model.weights.h5" else archive.read(entry))


@pytest.mark.parametrize("name", ["m.weights.h5", "m.h5", "m.keras"])
def test_a_byte_flipped_in_any_dataset_names_the_file_and_the_dataset(name, tmp_path):
    """Every dataset the loader reads, one at a time. For .keras the zip is rebuilt around the
    damaged weights, so that its own CRC-32 passes and the HDF5 checksum is what refuses."""
    path = _save(_trained(), tmp_path, name)
    data = _hdf5_bytes(path)
    # load_weights reads the layers' weights only; load_model also the optimizer's state
    names = _dataset_names(data, "/layers" if name.endswith(".weights.h5") else "/")
    assert len(names) == 4 if name.endswith(".weights.h5") else len(names) > 4
    for dataset_name in names:
        bad = tmp_path / ("bad-" + name)
        flipped = _flip_inside(data, dataset_name)
        if name.endswith(".keras"):
            _rezip(path, bad, flipped)
        else:
            bad.write_bytes(flipped)
        with pytest.raises(ValueError, match=f"bad-{re.escape(name)}.*'{re.escape(dataset_name)}'"
                                             ".*corrupt"):
            if name.endswith(".weights.h5"):
                _model().load_weights(bad)
            else:
                ek.models.load_model(bad)


def test_without_the_checksum_the_same_flip_loads_silently(tmp_path, monkeypatch):
    """Why the checksum is there: a file written without it loads the damaged weight."""
    plain = lambda group, name, data: group.create_dataset(name, data=np.asarray(data))  # noqa
    monkeypatch.setattr(keras_h5_weights, "create_dataset", plain)
    model = _trained()
    path = _save(model, tmp_path, "m.weights.h5")
    bad = tmp_path / "bad.weights.h5"
    bad.write_bytes(_flip_inside(path.read_bytes(), "/layers/dense/vars/0"))
    loaded = _model()
    loaded.load_weights(bad)
    assert not np.array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_a_malformed_crc_attribute_is_a_value_error(tmp_path):
    path = _save(_trained(), tmp_path, "m.h5")
    with h5py.File(path, "a") as root:
        scalar = next(d for d in _datasets(root) if d.ndim == 0)
        scalar.attrs[keras_h5_checksums.CRC_ATTRIBUTE] = "not a number"
        name = scalar.name
    with pytest.raises(ValueError, match=f"m.h5.*'{re.escape(name)}'.*malformed ember_crc32"):
        ek.models.load_model(path)


@pytest.mark.parametrize("name", ["m.weights.h5", "m.h5", "m.keras"])
def test_real_keras_reads_the_checksummed_files(name, tmp_path):
    keras = real_keras()
    model = _trained()
    path = _save(model, tmp_path, name)
    if name.endswith(".weights.h5"):
        loaded = _model(keras, compile=False)  # (Keras loads a file's optimizer variables
        loaded.load_weights(path)               # only into an optimizer it has built)
    else:
        loaded = keras.models.load_model(path)
    np.testing.assert_allclose(to_numpy(loaded.predict(X, verbose=0)),
                               model.predict(X, verbose=0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["m.weights.h5", "m.h5", "m.keras"])
def test_files_keras_writes_without_checksums_still_load(name, tmp_path):
    keras = real_keras()
    theirs = _model(keras)
    theirs.fit(X, np.ones((5, 2), np.float32), epochs=1, verbose=0)
    path = _save(theirs, tmp_path, name)
    if not name.endswith(".keras"):
        with h5py.File(path, "r") as root:
            assert not any(d.fletcher32 for d in _datasets(root))
    if name.endswith(".weights.h5"):
        loaded = _model()
        loaded.load_weights(path)
    else:
        loaded = ek.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0),
                               to_numpy(theirs.predict(X, verbose=0)), rtol=1e-5, atol=1e-5)


def _reinterpret(name, dtype):
    """An edit that keeps a dataset's stored bytes (and so its Fletcher-32) but changes how they
    decode, as a flipped bit in the datatype message (the byte order) does."""
    def edit(root):
        raw, attrs = root[name][()], dict(root[name].attrs)
        del root[name]
        dataset = root.create_dataset(name, data=raw.view(dtype), fletcher32=True)
        dataset.attrs.update(attrs)
    return edit


@pytest.mark.parametrize("dtype", [">f4", "<u4"], ids=["byte-order", "float-as-uint32"])
def test_bytes_that_decode_differently_fail_the_values_crc(dtype, tmp_path):
    """(Flipping every byte of a .weights.h5 found 52 such flips in the datatype messages:
    the data passed Fletcher-32 and loaded as other numbers.)"""
    path = _save(_trained(), tmp_path, "m.weights.h5")
    with h5py.File(path, "a") as root:
        _reinterpret("layers/dense/vars/0", dtype)(root)
    with pytest.raises(ValueError, match="m.weights.h5: the dataset '/layers/dense/vars/0' is "
                                         "corrupt: its values fail the CRC-32"):
        _model().load_weights(path)


def test_a_chunk_recorded_as_empty_is_refused_before_hdf5_reads_it(tmp_path):
    """(HDF5 crashed the interpreter, SIGSEGV, reading a Fletcher-32 chunk whose size in the
    chunk index was flipped to 0.) The index entry: size, filter mask, offsets, address."""
    import struct
    path = _save(_trained(), tmp_path, "m.weights.h5")
    with h5py.File(path, "r") as root:
        dataset = root["layers/dense/vars/1"]
        info = dataset.id.get_chunk_info(0)
        key = struct.pack("<II", info.size, 0) + bytes(8 * (dataset.ndim + 1)) \
            + struct.pack("<Q", info.byte_offset)
    data = path.read_bytes()
    assert data.count(key) == 1
    at = data.index(key)
    path.write_bytes(data[:at] + bytes(4) + data[at + 4:])
    with pytest.raises(ValueError, match="the dataset '/layers/dense/vars/1' is corrupt: a chunk "
                                         "of 0 bytes"):
        _model().load_weights(path)
