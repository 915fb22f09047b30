"""Property-based checks of ember's file loader (issue 11 item 7): random state dicts survive
ember.save/ember.load exactly, and a file with random bytes changed either loads the very same
data or raises one of ember's errors, never another exception type or a crash."""
import io
import pickle

import numpy as np
import pytest
from hypothesis import given, strategies as st

import ember
from property_strategies import BOUNDED, EMBER_ERRORS, shapes

ARRAY_DTYPES = [np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]


@st.composite
def stored_tensors(draw):
    shape = draw(shapes(0, 3, 0, 3))
    dtype = draw(st.sampled_from(ARRAY_DTYPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    arr = np.asarray((rng.standard_normal(shape) * 10).astype(dtype))
    kind = draw(st.sampled_from(["tensor", "parameter", "ndarray"]))
    if kind == "parameter" and arr.dtype.kind == "f":
        return ember.nn.Parameter(ember.from_numpy(arr))
    return arr if kind == "ndarray" else ember.from_numpy(arr)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**53, 2**53),
                    st.floats(allow_nan=False), st.text(max_size=8))
KEYS = st.one_of(st.text(min_size=1, max_size=8), st.integers(-5, 5))
STATE = st.recursive(
    st.one_of(stored_tensors(), SCALARS),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.lists(inner, max_size=3).map(tuple),
                            st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8)


def assert_same(a, b, where="root"):
    if isinstance(a, dict):  # ember.load gives every dict back as an OrderedDict
        assert isinstance(b, dict), (where, type(b))
    else:
        assert type(a) is type(b), (where, type(a), type(b))
    if isinstance(a, ember.Tensor):
        assert a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape), where
        assert a.requires_grad == b.requires_grad, where
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), err_msg=where)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def _saved(obj) -> bytes:
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    return buffer.getvalue()


def _load(data: bytes):
    return ember.load(io.BytesIO(data))


@BOUNDED
@given(state=st.dictionaries(st.text(min_size=1, max_size=8), STATE, max_size=4))
def test_random_state_dicts_round_trip_exactly(state):
    assert_same(state, _load(_saved(state)))


def _header_end(data: bytes) -> int:
    """Where the tensor bytes start (ember's state dicts are safetensors files)."""
    return 8 + int.from_bytes(data[:8], "little")


@st.composite
def mutations(draw, low, high):
    """Byte edits at offsets in [low, high): flips, truncation, insertion."""
    kind = draw(st.sampled_from(["flip", "flip", "truncate", "insert"]))
    at = draw(st.integers(low, max(low, high - 1)))
    return kind, at, draw(st.integers(1, 255))


def _mutate(data: bytes, mutation) -> bytes:
    kind, at, value = mutation
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + bytes([value]) + data[at:]
    return data[:at] + bytes([data[at] ^ value]) + data[at + 1:]


def _load_or_ember_error(original, data):
    try:
        loaded = _load(data)
    except EMBER_ERRORS:
        return
    assert_same(original, loaded)


STATE_DICT = {"weight": ember.from_numpy(np.arange(12, dtype=np.float32).reshape(3, 4)),
              "bias": ember.nn.Parameter(ember.ones(3)), "step": 7,
              "nested": {"ids": np.arange(5, dtype=np.int64), "names": ["a", "b"]}}


@BOUNDED
@given(data=st.data())
def test_a_mutated_header_loads_the_same_data_or_raises_an_ember_error(data):
    saved = _saved(STATE_DICT)
    mutation = data.draw(mutations(0, _header_end(saved)))
    _load_or_ember_error(STATE_DICT, _mutate(saved, mutation))


@BOUNDED
@given(data=st.data())
def test_a_mutated_file_never_raises_anything_but_an_ember_error(data):
    saved = _saved(STATE_DICT)
    mutation = data.draw(mutations(0, len(saved) + 1))
    try:
        _load(_mutate(saved, mutation))
    except EMBER_ERRORS:
        pass


@BOUNDED
@given(data=st.data())
def test_a_flipped_tensor_byte_is_detected(data):
    saved = _saved(STATE_DICT)
    at = data.draw(st.integers(_header_end(saved), len(saved) - 1))
    _load_or_ember_error(STATE_DICT, _mutate(saved, ("flip", at, data.draw(st.integers(1, 255)))))


@BOUNDED
@given(data=st.data())
def test_a_mutated_whole_module_file_never_raises_anything_but_an_ember_error(data):
    model = ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.ReLU())
    saved = _saved(model)
    mutation = data.draw(mutations(0, len(saved) + 1))
    try:
        loaded = _load(_mutate(saved, mutation))
    except (*EMBER_ERRORS, pickle.UnpicklingError):  # PyTorch's error for a refused pickle
        return
    assert isinstance(loaded, ember.nn.Module)
