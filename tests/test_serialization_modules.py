"""ember.save(model) / ember.load: whole modules under PyTorch's weights_only rules."""
import collections
import io
import json
import os
import pickle
import struct
import sys

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import serialization
from ember._pickle_format import MAGIC


class TiedNet(nn.Module):
    """A module of the user's own, with tied weights (as the word language model's decoder)."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(5, 4)
        self.rnn = nn.LSTM(4, 4)
        self.decoder = nn.Linear(4, 5)
        self.decoder.weight = self.encoder.weight
        self.best_loss = np.float64(2.5)
        # ember's own small types load without being listed.
        self.extras = {"device": ember.device("cpu"), "dtype": ember.float64,
                       "size": ember.Size([2, 3]), "ids": {1, 2}, "span": slice(1, 5)}

    def forward(self, x):
        out, _ = self.rnn(self.encoder(x))
        return self.decoder(out)


ALLOWED = [TiedNet, nn.Embedding, nn.LSTM, nn.Linear]


@pytest.fixture(autouse=True)
def no_leftover_safe_globals():
    yield
    serialization.clear_safe_globals()


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    ember.save(obj, buf)
    return buf.getvalue()


def test_whole_module_round_trips_inside_safe_globals(tmp_path):
    ember.manual_seed(0)
    model = TiedNet()
    x = ember.randint(0, 5, (3, 2))
    path = tmp_path / "model.pt"
    ember.save(model, path)
    with serialization.safe_globals(ALLOWED):
        loaded = ember.load(path)
    assert type(loaded) is TiedNet and loaded is not model
    assert np.array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert loaded.decoder.weight is loaded.encoder.weight  # tied weights stay tied
    assert isinstance(loaded.decoder.weight, nn.Parameter) and loaded.decoder.weight.requires_grad
    assert loaded.best_loss == 2.5
    assert loaded.extras == model.extras and type(loaded.extras["size"]) is ember.Size
    assert list(loaded.state_dict()) == list(model.state_dict())


def test_loaded_module_trains_exactly_as_the_original():
    ember.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    with serialization.safe_globals([nn.Sequential, nn.Linear, nn.Tanh]):
        loaded = ember.load(io.BytesIO(_saved(model)))
    x = ember.randn(32, 3)
    y = x.sum(1, keepdim=True)
    losses = {}
    for name, net in (("original", model), ("loaded", loaded)):
        opt = ember.optim.SGD(net.parameters(), lr=0.1)
        losses[name] = []
        for _ in range(20):
            loss = nn.functional.mse_loss(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses[name].append(loss.item())
    assert losses["loaded"] == losses["original"]
    assert losses["loaded"][-1] < 0.5 * losses["loaded"][0]
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert p is not q and np.array_equal(p.detach().numpy(), q.detach().numpy())


def test_default_load_refuses_unlisted_classes_naming_them_and_the_way_out():
    data = _saved(TiedNet())
    with pytest.raises(pickle.UnpicklingError) as info:
        ember.load(io.BytesIO(data))
    message = str(info.value)
    assert "unsupported global test_serialization_modules.TiedNet" in message \
        or "unsupported global tests.test_serialization_modules.TiedNet" in message
    assert "safe_globals([TiedNet])" in message and "add_safe_globals" in message
    assert "weights_only=False" in message
    with serialization.safe_globals([TiedNet]):  # its layers are not allowed yet
        with pytest.raises(pickle.UnpicklingError, match="unsupported global "
                                                         "ember.nn.modules.sparse.Embedding"):
            ember.load(io.BytesIO(data))


def test_safe_globals_ends_with_its_block_and_add_safe_globals_lasts():
    data = _saved(nn.Linear(2, 2))
    with serialization.safe_globals([nn.Linear]):
        assert isinstance(ember.load(io.BytesIO(data)), nn.Linear)
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(data))
    serialization.add_safe_globals([nn.Linear])
    assert serialization.get_safe_globals() == [nn.Linear]
    assert isinstance(ember.load(io.BytesIO(data)), nn.Linear)
    assert isinstance(ember.load(io.BytesIO(data)), nn.Linear)
    serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(data))


def test_safe_globals_accepts_object_and_name_pairs():
    data = _saved(nn.ReLU())
    with serialization.safe_globals([(nn.ReLU, "ember.nn.modules.activation.ReLU")]):
        assert isinstance(ember.load(io.BytesIO(data)), nn.ReLU)


def test_safe_globals_rejects_what_is_not_a_class_list():
    with pytest.raises(TypeError, match="expected a list"):
        serialization.add_safe_globals(nn.Linear)
    with pytest.raises(TypeError, match="expected classes or functions"):
        with serialization.safe_globals([3]):
            pass


def test_get_unsafe_globals_in_checkpoint_lists_what_to_allow(tmp_path):
    path = tmp_path / "model.pt"
    ember.save(TiedNet(), path)
    names = serialization.get_unsafe_globals_in_checkpoint(path)
    assert sorted(n.rsplit(".", 1)[1] for n in names) == ["Embedding", "LSTM", "Linear",
                                                          "TiedNet"]
    assert "ember.nn.modules.linear.Linear" in names
    state_dict_file = io.BytesIO(_saved({"w": ember.ones(1)}))
    assert serialization.get_unsafe_globals_in_checkpoint(state_dict_file) == []
    with serialization.safe_globals(ALLOWED):
        assert serialization.get_unsafe_globals_in_checkpoint(path) == []


def test_get_unsafe_globals_in_checkpoint_matches_pytorch_s_naming():
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(torch.nn.Sequential(torch.nn.Linear(1, 1)), buf)
    buf.seek(0)
    theirs = torch.serialization.get_unsafe_globals_in_checkpoint(buf)
    ours = serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(_saved(nn.Sequential(
        nn.Linear(1, 1)))))
    assert sorted(n.replace("torch.", "") for n in theirs) == sorted(
        n.replace("ember.", "") for n in ours)


def test_weights_only_false_trusts_the_file():
    loaded = ember.load(io.BytesIO(_saved(TiedNet())), weights_only=False)
    assert type(loaded) is TiedNet and loaded.decoder.weight is loaded.encoder.weight


def test_a_checkpoint_dict_holding_a_module_is_pickled():
    model = nn.Linear(2, 1)
    data = _saved({"model": model, "epoch": 3, "shapes": {(1, 2): "tuple key"}})
    assert data.startswith(MAGIC)
    with serialization.safe_globals([nn.Linear]):
        out = ember.load(io.BytesIO(data))
    assert out["epoch"] == 3 and out["shapes"] == {(1, 2): "tuple key"}
    assert out["model"].weight.tolist() == model.weight.tolist()


def test_state_dicts_are_still_safetensors_files(tmp_path):
    model = nn.Linear(2, 1)
    ember.save(model.state_dict(), tmp_path / "sd.ember")
    for data in (_saved(model.state_dict()), (tmp_path / "sd.ember").read_bytes()):
        assert not data.startswith(MAGIC)
        (n,) = struct.unpack("<Q", data[:8])
        assert json.loads(data[8:8 + n])["__metadata__"]["format"] == "ember-1"
    assert ember.load(tmp_path / "sd.ember")["weight"].tolist() == model.weight.tolist()


def test_unpicklable_objects_raise_type_error_naming_them():
    with pytest.raises(TypeError, match="ember.save: cannot pickle"):
        ember.save({"fn": lambda x: x}, io.BytesIO())


def test_whole_module_loading_is_as_strict_as_pytorch():
    torch = pytest.importorskip("torch")
    buf = io.BytesIO()
    torch.save(torch.nn.Linear(2, 2), buf)
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        torch.load(io.BytesIO(buf.getvalue()))
    with torch.serialization.safe_globals([torch.nn.Linear]):
        assert isinstance(torch.load(io.BytesIO(buf.getvalue())), torch.nn.Linear)
    with pytest.raises(pickle.UnpicklingError, match="Linear"):
        ember.load(io.BytesIO(_saved(nn.Linear(2, 2))))


# ---- hostile files ---------------------------------------------------------------------------

def _file_with_pickle(payload: bytes) -> bytes:
    """A well-formed ember whole-object file whose pickle is `payload`."""
    import safetensors.numpy
    blob = safetensors.numpy.save({"0": np.ones(1, np.float32)})
    return MAGIC + struct.pack("<Q", len(payload)) + payload + blob


class _SystemCall:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@pytest.mark.parametrize("make_payload", [
    lambda marker: pickle.dumps(_SystemCall(f"touch {marker}")),
    lambda marker: pickle.dumps({"model": [1, _SystemCall(f"touch {marker}")]}),
    lambda marker: (b"\x80\x04cbuiltins\neval\n(V__import__('os').system('touch " +
                    str(marker).encode() + b"')\ntR."),
    lambda marker: b"\x80\x04csubprocess\nPopen\n((Vtouch\nV" + str(marker).encode() + b"\nltR.",
], ids=["os.system", "nested", "eval", "subprocess"])
def test_hostile_pickles_are_refused_and_run_nothing(tmp_path, make_payload):
    marker = tmp_path / "pwned"
    data = _file_with_pickle(make_payload(marker))
    with pytest.raises(pickle.UnpicklingError, match="unsupported global"):
        ember.load(io.BytesIO(data))
    with pytest.raises(pickle.UnpicklingError):
        ember.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    assert not marker.exists()


def test_the_hostile_payload_is_live_when_the_file_is_trusted(tmp_path):
    # Shows the payloads above would act if the loader let them: weights_only=False runs them.
    marker = tmp_path / "ran"
    data = _file_with_pickle(pickle.dumps(_SystemCall(f"touch {marker}")))
    assert ember.load(io.BytesIO(data), weights_only=False) == 0
    assert marker.exists()


def test_listing_a_hostile_file_s_globals_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    data = _file_with_pickle(pickle.dumps(_SystemCall(f"touch {marker}")))
    assert serialization.get_unsafe_globals_in_checkpoint(io.BytesIO(data)) == \
        [f"{os.system.__module__}.system"]
    assert not marker.exists()


def test_refused_globals_are_never_imported():
    name = "ember_test_module_that_must_not_be_imported"
    payload = b"\x80\x04c" + name.encode() + b"\nthing\n)R."
    with pytest.raises(pickle.UnpicklingError, match=f"unsupported global {name}.thing"):
        ember.load(io.BytesIO(_file_with_pickle(payload)))
    assert name not in sys.modules


@pytest.mark.parametrize("pid", [("tensor", "9", "x", False), ("tensor", "0"), "0",
                                 ("tensor", "0", 3, False), ("tensor", "9", ember.Tensor, False),
                                 ("tensor", "0", collections.OrderedDict, False)])
def test_bad_tensor_references_are_refused(pid):
    class _Ref(pickle.Pickler):
        def persistent_id(self, obj):
            return pid if obj == "ref" else None
    buf = io.BytesIO()
    _Ref(buf, protocol=4).dump(["ref"])
    with pytest.raises(pickle.UnpicklingError, match="tensor"):
        ember.load(io.BytesIO(_file_with_pickle(buf.getvalue())))


@pytest.mark.parametrize("payload", [b"\x80\x04ccollections\nOrderedDict\nK\x01\x85R.",
                                     b"\x80\x04]\x94(K\x01", b"\x80\x04h\x07."])
def test_malformed_pickles_raise_unpickling_error(payload):
    with pytest.raises(pickle.UnpicklingError, match="weights_only load of <file object> failed"):
        ember.load(io.BytesIO(_file_with_pickle(payload)))


def test_truncated_whole_object_files_raise_value_error():
    data = _saved(nn.Linear(2, 2))
    for cut in (len(MAGIC) + 3, len(MAGIC) + 20, len(data) - 5):
        with pytest.raises(ValueError, match="ember.load: <file object> is (corrupt|too short)"):
            ember.load(io.BytesIO(data[:cut]))


# ---- map_location -----------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["cpu", "cpu:0", ember.device("cpu"), {"cuda:0": "cpu"}])
def test_map_location_to_the_cpu(where):
    model = nn.Linear(2, 2)
    for obj in (model.state_dict(), model):
        out = ember.load(io.BytesIO(_saved(obj)), map_location=where, weights_only=False)
        assert (out if isinstance(out, nn.Linear) else out["weight"]) is not None


def test_map_location_callable_is_applied_to_each_tensor():
    seen = []

    def relocate(storage, location):
        seen.append(location)
        return storage
    sd = nn.Linear(2, 2).state_dict()
    out = ember.load(io.BytesIO(_saved(sd)), map_location=relocate)
    assert seen == ["cpu", "cpu"] and out["bias"].tolist() == sd["bias"].tolist()
    seen.clear()
    with serialization.safe_globals([nn.Linear]):
        ember.load(io.BytesIO(_saved(nn.Linear(2, 2))), map_location=relocate)
    assert seen == ["cpu", "cpu"]
    with pytest.raises(TypeError, match="map_location returned int"):
        ember.load(io.BytesIO(_saved(sd)), map_location=lambda s, loc: 0)


@pytest.mark.parametrize("where", ["cuda", {"cpu": "cuda:0"}, ember.device("mps")])
def test_map_location_elsewhere_is_not_implemented(where):
    with pytest.raises(NotImplementedError, match="map_location.*CPU only"):
        ember.load(io.BytesIO(_saved({"w": ember.ones(1)})), map_location=where)


def test_unsupported_load_options_are_refused():
    data = _saved({"w": ember.ones(1)})
    with pytest.raises(NotImplementedError, match="pickle_module"):
        ember.load(io.BytesIO(data), pickle_module=pickle)
    with pytest.raises(NotImplementedError, match="mmap"):
        ember.load(io.BytesIO(data), mmap=True)


# ---- atomic saves -------------------------------------------------------------------------------

def test_a_failed_save_leaves_the_old_file_whole_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.ember"
    ember.save({"w": ember.ones(3)}, path)
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"w": ember.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.ember"]
    assert ember.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_save_replaces_a_file_and_creates_it_with_open_s_permissions(tmp_path):
    path = tmp_path / "model.ember"
    ember.save({"w": ember.ones(1)}, str(path))
    ember.save({"w": ember.zeros(2)}, str(path))
    assert ember.load(str(path))["w"].tolist() == [0.0, 0.0]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert os.listdir(tmp_path) == ["model.ember"]
