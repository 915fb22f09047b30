"""ember.save / ember.load: round trips of state dicts, and corrupt or hostile files."""
import io
import json
import struct

import numpy as np
import pytest

import ember
import ember.nn as nn


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _trained():
    ember.manual_seed(0)
    model = _model()
    opt = ember.optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    for _ in range(3):
        opt.zero_grad()
        model(ember.randn(5, 3)).pow(2).sum().backward()
        opt.step()
    return model, opt


def test_model_and_optimizer_round_trip_through_a_path(tmp_path):
    model, opt = _trained()
    path = tmp_path / "checkpoint.ember"
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, path)
    loaded = ember.load(path)
    assert loaded["epoch"] == 3
    assert list(loaded["model"]) == list(model.state_dict())
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(loaded["model"][k].numpy(), v.numpy())
        assert loaded["model"][k].dtype == v.dtype

    # Restoring both and taking one more step matches continuing the original.
    model2 = _model()
    model2.load_state_dict(loaded["model"])
    opt2 = ember.optim.Adam(model2.parameters(), lr=0.01, amsgrad=True)
    opt2.load_state_dict(loaded["optimizer"])
    x = ember.randn(5, 3)
    for m, o in ((model, opt), (model2, opt2)):
        o.zero_grad()
        m(x).pow(2).sum().backward()
        o.step()
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_nested_containers_dtypes_and_parameters_survive():
    obj = {"t32": ember.tensor([1.5, 2.5]), "t64": ember.tensor([1.0], dtype=ember.float64),
           "i64": ember.arange(4), "mask": ember.tensor([True, False]),
           "scalar": ember.tensor(3.0), "empty": ember.zeros(0, 3),
           "param": nn.Parameter(ember.ones(2)), "array": np.arange(6, dtype=np.uint8).reshape(2, 3),
           "list": [1, 2.5, "x", None, True], "tuple": (0.9, 0.999), 7: "int key",
           "nan": float("nan")}
    buf = io.BytesIO()
    ember.save(obj, buf)
    buf.seek(0)
    out = ember.load(buf)
    assert list(out) == list(obj)
    assert out["t32"].dtype == ember.float32 and out["t32"].tolist() == [1.5, 2.5]
    assert out["t64"].dtype == ember.float64
    assert out["i64"].dtype == ember.int64 and out["mask"].dtype == ember.bool
    assert out["scalar"].shape == () and out["empty"].shape == (0, 3)
    assert isinstance(out["param"], nn.Parameter) and out["param"].requires_grad
    assert out["array"].dtype == np.uint8 and out["array"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert out["list"] == [1, 2.5, "x", None, True] and out["tuple"] == (0.9, 0.999)
    assert out[7] == "int key" and np.isnan(out["nan"])
    out["t32"].add_(1)  # loaded tensors are writeable


def test_what_a_state_dict_cannot_hold_is_pickled_not_refused():
    # Whole modules and tuple keys go to the pickle format (tests/test_serialization_modules.py).
    for obj in (_model(), {(1, 2): ember.ones(1)}):
        buf = io.BytesIO()
        ember.save(obj, buf)
        assert buf.getvalue().startswith(b"EMBER-PICKLE-1")


def _saved_bytes():
    buf = io.BytesIO()
    ember.save({"w": ember.ones(3)}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("corrupt, message", [
    (lambda b: b[:5], "too short"),
    (lambda b: b[:-4], "corrupt"),
    (lambda b: struct.pack("<Q", 2**62) + b[8:], "header length"),
    (lambda b: b[:8] + b"{" * (len(b) - 8), "corrupt header"),
    (lambda b: b"PK\x03\x04" + b[4:], "PyTorch .pt file"),
    (lambda b: b"", "too short"),
])
def test_corrupt_files_raise_value_error(corrupt, message):
    with pytest.raises(ValueError, match=message):
        ember.load(io.BytesIO(corrupt(_saved_bytes())))


def _with_structure(structure):
    """A well-formed safetensors file whose ember structure is `structure`."""
    import safetensors.numpy
    return safetensors.numpy.save({"0": np.ones(2, np.float32)},
                                  metadata={"format": "ember-1", "structure": json.dumps(structure)})


@pytest.mark.parametrize("structure, message", [
    ({"$tensor": "9"}, "lacks"),
    ({"$list": [{"$tensor": "0"}, {"$tensor": "0"}]}, "twice"),
    ({"$evil": "os.system"}, "unknown node"),
    ([1, 2], "unexpected node"),
    ({"$dict": [[[1], 2]]}, "not a string or number"),
    ({"$dict": "nope"}, "invalid structure"),
])
def test_hostile_structures_raise_value_error(structure, message):
    with pytest.raises(ValueError, match=message):
        ember.load(io.BytesIO(_with_structure(structure)))


def test_deeply_nested_structure_is_rejected_not_crashing():
    import safetensors.numpy
    data = safetensors.numpy.save({"0": np.ones(1, np.float32)},
                                  metadata={"format": "ember-1",
                                            "structure": '{"$list": [' * 100000 + "1" + "]}" * 100000})
    with pytest.raises(ValueError):
        ember.load(io.BytesIO(data))


def test_plain_safetensors_file_is_not_mistaken_for_an_ember_file():
    import safetensors.numpy
    data = safetensors.numpy.save({"w": np.ones(2, np.float32)})
    with pytest.raises(ValueError, match="not one written by ember.save"):
        ember.load(io.BytesIO(data))


def test_map_location_other_than_cpu_is_not_implemented():
    with pytest.raises(NotImplementedError, match="CPU only"):
        ember.load(io.BytesIO(_saved_bytes()), map_location="cuda:0")
    assert ember.load(io.BytesIO(_saved_bytes()), map_location="cpu")["w"].tolist() == [1, 1, 1]
