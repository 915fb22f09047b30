"""ember.load of hostile files: only regular files are read, every size a file claims is checked
against its real size before anything is allocated, and flipped tensor bytes are caught by the
checksums ember records (issue 11: /dev/zero read until MemoryError, a FIFO blocked forever, a
flipped byte loaded silently)."""
import io
import json
import os
import pickle
import struct
import threading

import numpy as np
import pytest
import safetensors.numpy

import ember
import ember.nn as nn
from ember import _pickle_format


def _state_file(tmp_path):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    path = tmp_path / "model.pt"
    ember.save(model.state_dict(), path)
    return model, path


def _header(data):
    (n,) = struct.unpack("<Q", data[:8])
    return n, json.loads(data[8:8 + n])


def _flip_in_tensor(data, tensor_key):
    """data with one bit flipped in the middle of a tensor's bytes."""
    n, header = _header(data)
    begin, end = header[tensor_key]["data_offsets"]
    out = bytearray(data)
    out[8 + n + (begin + end) // 2] ^= 0x04
    return bytes(out)


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    outcome = []

    def load():
        try:
            ember.load(fifo)
        except Exception as e:  # noqa: BLE001 (the type is asserted below)
            outcome.append(e)
    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():  # unblock it before failing: a writer opens the other end
        with open(fifo, "wb"):
            pass
        pytest.fail("ember.load blocked on a FIFO")
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError)
    assert "FIFO" in str(outcome[0]) and "regular file" in str(outcome[0])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_by_path_and_as_an_open_file():
    with pytest.raises(ValueError, match="/dev/zero is a device; ember reads its files only"):
        ember.load("/dev/zero")
    with open("/dev/zero", "rb") as fh, pytest.raises(ValueError, match="is a device"):
        ember.load(fh)


def test_a_directory_is_refused_as_open_would(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        ember.load(tmp_path)


def test_regular_files_load_by_path_by_open_file_and_from_memory(tmp_path):
    model, path = _state_file(tmp_path)
    expected = {k: v.numpy() for k, v in model.state_dict().items()}
    with open(path, "rb") as fh:
        from_file = ember.load(fh)
    from_memory = ember.load(io.BytesIO(path.read_bytes()))
    for loaded in (ember.load(path), from_file, from_memory):
        assert sorted(loaded) == sorted(expected)
        for k, v in expected.items():
            np.testing.assert_array_equal(loaded[k].numpy(), v)


@pytest.mark.parametrize("cut", [0, 7, 8, 20, -1, -9])
def test_truncated_files_are_refused(tmp_path, cut):
    _, path = _state_file(tmp_path)
    data = path.read_bytes()
    bad = tmp_path / "cut.pt"
    bad.write_bytes(data[:cut] if cut >= 0 else data[:len(data) + cut])
    with pytest.raises(ValueError, match="ember.load"):
        ember.load(bad)


def _edited(source, edit):
    """A copy of the file at `source` with its JSON header changed by `edit` (the header length
    updated), beside it."""
    data = source.read_bytes()
    n, header = _header(data)
    edit(header)
    raw = json.dumps(header).encode()
    out = source.with_name("edited_" + source.name)
    out.write_bytes(struct.pack("<Q", len(raw)) + raw + data[8 + n:])
    return out


@pytest.mark.parametrize("shape", [[2**40, 2**40], [2**62, 4], [4, 3, 2**31], [10**6, 10**6]])
def test_a_huge_declared_shape_is_refused_before_allocating(tmp_path, shape):
    _, path = _state_file(tmp_path)
    with pytest.raises(ValueError, match="is corrupt"):
        ember.load(_edited(path, lambda header: header["0"].update(shape=shape)))


def test_a_header_length_beyond_the_file_is_refused(tmp_path):
    _, path = _state_file(tmp_path)
    data = path.read_bytes()
    for n in (2**63, 2**40, len(data)):
        bad = tmp_path / "long_header.pt"
        bad.write_bytes(struct.pack("<Q", n) + data[8:])
        with pytest.raises(ValueError, match="header length"):
            ember.load(bad)


def test_a_flipped_byte_in_tensor_data_names_the_tensor(tmp_path):
    model, path = _state_file(tmp_path)
    data = path.read_bytes()
    _, header = _header(data)
    structure = json.loads(header["__metadata__"]["structure"])
    # the file key of the second layer's weight ("2.weight" in the state dict)
    key = next(v["$tensor"] for k, v in structure["$dict"] if k == "2.weight")
    bad = tmp_path / "flipped.pt"
    bad.write_bytes(_flip_in_tensor(data, key))
    with pytest.raises(ValueError, match=r"tensor '2\.weight' \(shape \(2, 4\), float32\) fails "
                                         r"its checksum"):
        ember.load(bad)


def test_a_flipped_byte_in_a_whole_module_file_is_caught(tmp_path):
    model = nn.Linear(5, 3)
    path = tmp_path / "module.pt"
    ember.save(model, path)
    data = path.read_bytes()
    start = len(_pickle_format.MAGIC)
    (n,) = struct.unpack("<Q", data[start:start + 8])
    blob_at = start + 8 + n
    flipped = data[:blob_at] + _flip_in_tensor(data[blob_at:], "0")
    bad = tmp_path / "flipped_module.pt"
    bad.write_bytes(flipped)
    with pytest.raises(ValueError, match=r"tensor 0 \(shape \(3, 5\), float32\) fails its "
                                         "checksum"):
        ember.load(bad, weights_only=False)
    assert isinstance(ember.load(path, weights_only=False), nn.Linear)  # the intact file loads


def test_a_corrupt_checksum_table_is_an_error_not_a_skip(tmp_path):
    _, path = _state_file(tmp_path)
    with pytest.raises(ValueError, match="checksums are unreadable"):
        ember.load(_edited(path, lambda header: header["__metadata__"].update(crc32="{not json")))


def test_files_written_before_checksums_still_load(tmp_path):
    """Older ember files have no 'crc32' metadata: they load, unchecked."""
    model, path = _state_file(tmp_path)
    loaded = ember.load(_edited(path, lambda header: header["__metadata__"].pop("crc32")))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded[k].detach().numpy(), v.detach().numpy())
    # and an old whole-object file: its array blob had only the format in its metadata
    linear = nn.Linear(2, 2)
    buf = io.BytesIO()
    pickler = _pickle_format._Pickler(buf)
    pickler.dump(linear)
    blob = safetensors.numpy.save(pickler.arrays, metadata={"format": "ember-pickle-arrays-1"})
    payload = buf.getvalue()
    old_module = tmp_path / "old_module.pt"
    old_module.write_bytes(_pickle_format.MAGIC + struct.pack("<Q", len(payload)) + payload + blob)
    loaded_module = ember.load(old_module, weights_only=False)
    np.testing.assert_array_equal(loaded_module.weight.detach().numpy(),
                                  linear.weight.detach().numpy())


@pytest.mark.parametrize("opcode", [pickle.BINBYTES8, pickle.BINUNICODE8])
def test_a_pickle_claiming_a_huge_string_is_refused_before_allocating(tmp_path, opcode):
    """The C unpickler allocates a counted string's claimed length before reading it: a file of
    a few bytes could claim terabytes."""
    payload = b"\x80\x04" + opcode + struct.pack("<Q", 2**50) + b"abc"
    blob = safetensors.numpy.save({}, metadata={"format": "ember-pickle-arrays-1"})
    bad = tmp_path / "claims.pt"
    bad.write_bytes(_pickle_format.MAGIC + struct.pack("<Q", len(payload)) + payload + blob)
    with pytest.raises(pickle.UnpicklingError, match="the pickle is malformed"):
        ember.load(bad)
    with pytest.raises(pickle.UnpicklingError, match="has a malformed pickle"):
        ember.load(bad, weights_only=False)


def test_a_pickle_length_beyond_the_file_is_refused(tmp_path):
    bad = tmp_path / "long_pickle.pt"
    bad.write_bytes(_pickle_format.MAGIC + struct.pack("<Q", 2**62) + b"\x80\x04N.")
    with pytest.raises(ValueError, match="pickle length"):
        ember.load(bad)


def test_a_keras_ember_file_with_a_flipped_weight_byte_is_caught(tmp_path):
    from ember import keras as ek

    model = ek.Sequential([ek.layers.Input((3,)), ek.layers.Dense(2)])
    path = tmp_path / "model.ember"
    model.save(path)
    data = path.read_bytes()
    _, header = _header(data)
    bad = tmp_path / "flipped.ember"
    bad.write_bytes(_flip_in_tensor(data, "0"))
    with pytest.raises(ValueError, match="fails its checksum"):
        ek.models.load_model(bad)
    np.testing.assert_array_equal(ek.models.load_model(path).layers[0].get_weights()[0],
                                  model.layers[0].get_weights()[0])


def _range(stop):  # pickle opcodes for range(0, stop)
    return b"cbuiltins\nrange\nK\x00\x8a\x08" + stop.to_bytes(8, "little") + b"\x86R"


@pytest.mark.parametrize("payload", [
    b"\x80\x04cbuiltins\nbytearray\nJ\x00\x00\x00\x40\x85R.",  # bytearray(2**30)
    b"\x80\x04cbuiltins\nbytearray\n" + _range(2**62) + b"\x85R.",
    b"\x80\x04cbuiltins\nset\n" + _range(2**62) + b"\x85R.",
    b"\x80\x04cbuiltins\nfrozenset\n" + _range(2**62) + b"\x85R.",
    b"\x80\x04cember.tensor\nSize\n" + _range(2**62) + b"\x85\x81.",  # NEWOBJ
    b"\x80\x04cember.tensor\nTensor\n(K\x01K\x02l\x85R.",  # Tensor([1, 2]) from the pickle
    b"\x80\x04cember.nn.parameter\nParameter\n(K\x01K\x02l\x85R.",
], ids=["bytearray-int", "bytearray-range", "set-range", "frozenset-range", "size-range",
        "tensor-from-list", "parameter-from-list"])
def test_allowed_globals_cannot_be_made_to_allocate_without_bound(payload):
    """A few bytes asking an allowed global for 2**62 items or 1 GB are refused at once."""
    blob = safetensors.numpy.save({}, metadata={"format": "ember-pickle-arrays-1"})
    data = _pickle_format.MAGIC + struct.pack("<Q", len(payload)) + payload + blob
    with pytest.raises(pickle.UnpicklingError, match="ember files never contain|array section"):
        ember.load(io.BytesIO(data))


def test_the_guarded_globals_still_build_what_ember_files_hold(tmp_path):
    obj = {"shape": ember.Size([2, 3]), "raw": bytearray(b"ab"), "tags": {1, 2},
           "frozen": frozenset({3}), "weight": nn.Parameter(ember.ones(2))}
    path = tmp_path / "mixed.pt"
    ember.save(obj, path)
    loaded = ember.load(path)
    assert type(loaded["shape"]) is ember.Size and loaded["shape"] == (2, 3)
    assert loaded["raw"] == bytearray(b"ab") and loaded["tags"] == {1, 2}
    assert loaded["frozen"] == frozenset({3})
    assert type(loaded["weight"]) is nn.Parameter
    np.testing.assert_array_equal(loaded["weight"].detach().numpy(), [1.0, 1.0])


def test_a_keras_config_asking_for_huge_layers_is_refused_before_building_them(tmp_path):
    """A 3 KB file whose config asks for a Dense of 10**8 units used to build it (1.2 GB)
    before comparing weights; now the layers may hold no more than the file's weights."""
    from ember import keras as ek

    model = ek.Sequential([ek.layers.Input((3,)), ek.layers.Dense(4), ek.layers.Dense(2)])
    path = tmp_path / "model.ember"
    model.save(path)
    data = ember.load(path)

    def grow(node):
        if isinstance(node, dict):
            if node.get("units") == 4:
                node["units"] = 10**8
            for v in node.values():
                grow(v)
        elif isinstance(node, list):
            for v in node:
                grow(v)
    grow(data["config"])
    bad = tmp_path / "huge_config.ember"
    ember.save(data, bad)
    assert bad.stat().st_size < 10_000
    with pytest.raises(ValueError, match=r"load_model: the model's config asks for more "
                                         r"parameters than .* holds weights for \(a parameter "
                                         r"of shape \(3, 100000000\)"):
        ek.models.load_model(bad)
    assert ek.models.load_model(path).count_params() == model.count_params()


def test_a_flipped_byte_in_the_structure_is_caught(tmp_path):
    """Renaming a tensor ('2.weight' -> '2.weighu') would load silently without a checksum of
    the structure."""
    _, path = _state_file(tmp_path)
    data = path.read_bytes()
    at = data.index(b"2.weight") + len(b"2.weigh")
    bad = tmp_path / "renamed.pt"
    bad.write_bytes(data[:at] + b"u" + data[at + 1:])
    with pytest.raises(ValueError, match="its structure fails its checksum"):
        ember.load(bad)


def test_a_flipped_byte_in_a_whole_object_pickle_is_caught(tmp_path):
    path = tmp_path / "module.pt"
    ember.save(nn.Linear(5, 3), path)
    data = path.read_bytes()
    at = data.index(b"in_features") + 1
    bad = tmp_path / "flipped_pickle.pt"
    bad.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1:])
    with pytest.raises(ValueError, match="its structure fails its checksum"):
        ember.load(bad, weights_only=False)
