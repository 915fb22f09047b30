"""Keras merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and
their functions: NumPy references, real Keras 3 on the same inputs, float64 gradients,
symbolic shapes, masks and errors."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers
from ember.testing import gradcheck
from keras_functional_common import fresh_session, rand as _rand  # noqa: F401
from keras_reference import real_keras, to_numpy


def _expand(xs):
    """Keras' rank alignment: size-1 axes inserted after the batch axis."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]


def _batch_dot(x, y, a0, a1):
    out = np.stack([np.tensordot(x[i], y[i], axes=(a0 - 1, a1 - 1)) for i in range(len(x))])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


# (layer name, kwargs, input shapes, NumPy reference)
CASES = [
    ("Add", {}, [(2, 3), (2, 3)], lambda xs: xs[0] + xs[1]),
    ("Add", {}, [(2, 3, 4), (2, 4), (2, 1, 4)], lambda xs: sum(_expand(xs))),
    ("Subtract", {}, [(2, 3), (2, 1)], lambda xs: xs[0] - xs[1]),
    ("Multiply", {}, [(2, 5), (2, 5), (2, 5)], lambda xs: xs[0] * xs[1] * xs[2]),
    ("Average", {}, [(2, 3, 2), (2, 3, 2)], lambda xs: (xs[0] + xs[1]) / 2),
    ("Maximum", {}, [(2, 4), (2, 4), (2, 4)], lambda xs: np.maximum(np.maximum(*xs[:2]), xs[2])),
    ("Minimum", {}, [(2, 4), (2, 4)], lambda xs: np.minimum(*xs)),
    ("Concatenate", {}, [(2, 3), (2, 5)], lambda xs: np.concatenate(xs, -1)),
    ("Concatenate", {"axis": 1}, [(2, 3, 4), (2, 2, 4)], lambda xs: np.concatenate(xs, 1)),
    ("Dot", {"axes": 1}, [(2, 3), (2, 3)], lambda xs: _batch_dot(*xs, 1, 1)),
    ("Dot", {"axes": (1, 2)}, [(2, 3, 5), (2, 4, 3)], lambda xs: _batch_dot(*xs, 1, 2)),
    ("Dot", {"axes": (1, 2)}, [(2, 5), (2, 4, 5)], lambda xs: _batch_dot(*xs, 1, 2)),
    ("Dot", {"axes": -1}, [(2, 3, 4), (2, 4)], lambda xs: _batch_dot(*xs, 2, 1)),
    ("Dot", {"axes": (2, 1)}, [(2, 3, 4), (2, 4, 5, 6)], lambda xs: _batch_dot(*xs, 2, 1)),
    ("Dot", {"axes": (2, 1), "normalize": True}, [(2, 3, 5), (2, 5, 4)],
     lambda xs: _batch_dot(xs[0] / np.linalg.norm(xs[0], axis=2, keepdims=True),
                           xs[1] / np.linalg.norm(xs[1], axis=1, keepdims=True), 2, 1)),
]
IDS = [f"{name}-{kwargs}-{shapes}" for name, kwargs, shapes, _ in CASES]


@pytest.mark.parametrize("name,kwargs,shapes,reference", CASES, ids=IDS)
def test_merge_matches_numpy_and_real_keras(name, kwargs, shapes, reference):
    xs = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    out = getattr(layers, name)(**kwargs)(xs).detach().numpy()
    np.testing.assert_allclose(out, reference(xs), rtol=1e-5, atol=1e-6)
    keras = real_keras()
    expected = to_numpy(getattr(keras.layers, name)(**kwargs)(xs))
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,kwargs,shapes,reference", CASES, ids=IDS)
def test_merge_gradients_float64(name, kwargs, shapes, reference):
    layer = getattr(layers, name)(**kwargs)
    xs = [ember.from_numpy(_rand(*s, seed=i).astype(np.float64)).requires_grad_()
          for i, s in enumerate(shapes)]
    assert gradcheck(lambda *inputs: layer(list(inputs)), tuple(xs), atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("name,kwargs,shapes,reference", CASES, ids=IDS)
def test_merge_symbolic_shape_matches_real_keras(name, kwargs, shapes, reference):
    inputs = [ek.Input(s[1:]) for s in shapes]
    out = getattr(layers, name)(**kwargs)(inputs)
    keras = real_keras()
    expected = getattr(keras.layers, name)(**kwargs)([keras.Input(s[1:]) for s in shapes])
    assert out.shape == tuple(expected.shape)


def test_merge_functions_are_the_layers():
    a, b = _rand(2, 3, seed=1), _rand(2, 3, seed=2)
    pairs = [(layers.add, a + b), (layers.subtract, a - b), (layers.multiply, a * b),
             (layers.average, (a + b) / 2), (layers.maximum, np.maximum(a, b)),
             (layers.minimum, np.minimum(a, b)), (layers.concatenate, np.concatenate([a, b], -1))]
    for fn, expected in pairs:
        np.testing.assert_allclose(fn([a, b]).detach().numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(layers.concatenate([a, b], axis=0).detach().numpy(),
                               np.concatenate([a, b], 0))
    np.testing.assert_allclose(layers.dot([a, b], axes=1).detach().numpy(),
                               (a * b).sum(1, keepdims=True), rtol=1e-5)
    named = layers.add([ek.Input((3,)), ek.Input((3,))], name="my_sum")
    assert named._keras_history[0].name == "my_sum"


def test_variable_length_inputs_keep_none_axes():
    a, b = ek.Input((None, 4)), ek.Input((None, 4))
    assert layers.Concatenate()([a, b]).shape == (None, None, 8)
    assert layers.Concatenate(axis=1)([a, b]).shape == (None, None, 4)
    assert layers.Add()([a, b]).shape == (None, None, 4)
    assert layers.Dot(axes=(2, 2))([a, b]).shape == (None, None, None)


def test_merge_config_round_trip():
    for layer in (layers.Concatenate(axis=1, name="c"), layers.Dot(axes=(1, 2), normalize=True),
                  layers.Add(name="plus")):
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config
    assert layers.Dot(axes=(1, 2), normalize=True).get_config()["axes"] == (1, 2)


def test_masks_merge_as_keras():
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    inp = ek.Input((3,), dtype="int32")
    emb = layers.Embedding(5, 2, mask_zero=True)
    x1, x2 = emb(inp), layers.Embedding(5, 2)(inp)
    add = layers.Add()
    model = ek.Model(inp, add([x1, x1]))
    model(ids)
    mask = add.compute_mask(None, [ember.from_numpy(ids != 0), ember.from_numpy(ids > 1)])
    np.testing.assert_array_equal(mask.numpy(), (ids != 0) | (ids > 1))
    assert add.compute_mask(None, [ember.from_numpy(ids != 0), None]) is None
    concat = layers.Concatenate()
    ones = ember.ones(2, 3, 2)
    mask = concat.compute_mask([ones, ones], [ember.from_numpy(ids != 0), None])
    np.testing.assert_array_equal(mask.numpy(), np.ones((2, 3), bool))
    mask = concat.compute_mask([ones, ones], [ember.from_numpy(ids != 0)] * 2)
    np.testing.assert_array_equal(mask.numpy(), ids != 0)
    with pytest.raises(NotImplementedError, match="Multiply 'multiply'.*masked"):
        ek.Model(inp, layers.Multiply()([x1, x2]))(ids)


def test_errors_name_the_layer_and_shapes():
    a, b = _rand(2, 3), _rand(2, 4)
    with pytest.raises(ValueError, match=r"Add: inputs have incompatible shapes.*\(2, 3\), "
                                         r"\(2, 4\)"):
        layers.Add()([a, b])
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.Add()([ek.Input((3,)), ek.Input((4,))])
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.Add()([_rand(2, 3), _rand(3, 3)])
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        layers.Add()(a)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([a, a, a])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        layers.Concatenate(axis=1)([_rand(2, 3, 4), _rand(2, 3, 5)])
    with pytest.raises(ValueError, match="out of bounds"):
        layers.Concatenate(axis=3)([a, a])
    with pytest.raises(ValueError, match="axis must be an integer"):
        layers.Concatenate(axis=1.5)
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 3 \(at axis "
                                         r"1\) != 4 \(at axis 1\)"):
        layers.Dot(axes=1)([a, b])
    with pytest.raises(ValueError, match="batch_dot over axis 0"):
        layers.Dot(axes=0)([a, a])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        layers.Dot(axes=1)([a, a, a])
    with pytest.raises(TypeError, match="Invalid type for argument `axes`"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match="should contain two elements"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(TypeError, match="unrecognized keyword"):
        layers.Add(bogus=1)
