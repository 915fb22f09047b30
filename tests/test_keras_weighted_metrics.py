"""compile(weighted_metrics=...) and per-output sample weights (a list or dict, one array per
output) in fit / evaluate, against real Keras 3 on the same weights and data."""
import contextlib
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_layer_checks import keras_weights
from keras_reference import real_keras

RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 3)).astype("float32")
YA = RNG.normal(size=(6, 1)).astype("float32")
YB = RNG.normal(size=(6, 2)).astype("float32")
SWA = np.array([1, 0, 2, 1, 0, 1], "float32")
SWB = np.array([0, 1, 1, 3, 1, 0], "float32")


@contextlib.contextmanager
def _quiet():
    """Real Keras' own deprecation warnings under NumPy 2 (the tests make warnings errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _two_outputs(lib, dict_outputs):
    inputs = lib.Input((3,), name="x")
    a = lib.layers.Dense(1, name="a")(inputs)
    b = lib.layers.Dense(2, name="b")(inputs)
    return lib.Model(inputs, {"a": a, "b": b} if dict_outputs else [a, b])


def _pair(make, **compile_args):
    keras = real_keras()
    reference, model = make(keras), make(ek)
    model.set_weights(keras_weights(reference))
    for m in (reference, model):
        m.compile(optimizer="sgd", **compile_args)
    return reference, model


def _assert_logs_equal(got, expected):
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(float(got[key]), float(expected[key]), rtol=1e-5,
                                   err_msg=key)


def _single(lib):
    inputs = lib.Input((3,))
    return lib.Model(inputs, lib.layers.Dense(1)(inputs))


@pytest.mark.parametrize("sample_weight", [SWA, None])
def test_single_output_weighted_metrics_match_keras(sample_weight):
    reference, model = _pair(_single, loss="mse", metrics=["mae"],
                             weighted_metrics=["mae", "mse"])
    with _quiet():
        expected = reference.evaluate(X, YA, sample_weight=sample_weight, verbose=0,
                                      return_dict=True)
        expected_list = reference.evaluate(X, YA, sample_weight=sample_weight, verbose=0)
    got = model.evaluate(X, YA, sample_weight=sample_weight, verbose=0, return_dict=True)
    _assert_logs_equal(got, expected)  # mae, weighted_mae (a taken name), mse
    np.testing.assert_allclose(model.evaluate(X, YA, sample_weight=sample_weight, verbose=0),
                               expected_list, rtol=1e-5)


def test_repeated_weighted_names_are_made_unique_as_keras_does():
    reference, model = _pair(_single, loss="mse", metrics=["mae", "mae"],
                             weighted_metrics=["mae", "mae", "mse"])
    with _quiet():
        expected = reference.evaluate(X, YA, sample_weight=SWA, verbose=0, return_dict=True)
    _assert_logs_equal(model.evaluate(X, YA, sample_weight=SWA, verbose=0, return_dict=True),
                       expected)


def test_fit_logs_weighted_metrics_and_trains_as_keras():
    reference, model = _pair(_single, loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    kwargs = dict(sample_weight=SWA, epochs=3, batch_size=4, shuffle=False, verbose=0,
                  validation_data=(X, YA))
    with _quiet():
        expected = reference.fit(X, YA, **kwargs).history
    got = model.fit(X, YA, **kwargs).history
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)


@pytest.mark.parametrize("dict_outputs", [False, True])
@pytest.mark.parametrize("weights", ["per output", "one array"])
def test_per_output_sample_weights_match_keras(dict_outputs, weights):
    per_output = {"a": SWA, "b": SWB} if dict_outputs else [SWA, SWB]
    sample_weight = per_output if weights == "per output" else SWA
    metrics = {"a": ["mae"], "b": ["mae"]} if dict_outputs else [["mae"], ["mae"]]
    weighted = {"a": ["mae"], "b": ["mse"]} if dict_outputs else [["mae"], ["mse"]]
    y = {"a": YA, "b": YB} if dict_outputs else [YA, YB]
    reference, model = _pair(lambda lib: _two_outputs(lib, dict_outputs), loss="mse",
                             metrics=metrics, weighted_metrics=weighted)
    with _quiet():
        expected = reference.evaluate(X, y, sample_weight=sample_weight, verbose=0,
                                      return_dict=True)
        history = reference.fit(X, y, sample_weight=sample_weight, epochs=2, batch_size=3,
                                shuffle=False, verbose=0).history
    _assert_logs_equal(model.evaluate(X, y, sample_weight=sample_weight, verbose=0,
                                      return_dict=True), expected)
    got = model.fit(X, y, sample_weight=sample_weight, epochs=2, batch_size=3, shuffle=False,
                    verbose=0).history
    for key in history:
        np.testing.assert_allclose(got[key], history[key], rtol=1e-5, err_msg=key)


def test_per_output_weights_change_only_their_output_loss():
    model = _two_outputs(ek, False)
    model.compile(optimizer="sgd", loss="mse")
    ones = np.ones(6, "float32")
    base = model.evaluate(X, [YA, YB], sample_weight=[ones, ones], verbose=0,
                          return_dict=True)
    changed = model.evaluate(X, [YA, YB], sample_weight=[SWA, ones], verbose=0,
                             return_dict=True)
    assert changed["a_loss"] != pytest.approx(base["a_loss"])
    assert changed["b_loss"] == pytest.approx(base["b_loss"])


def test_mismatched_structures_raise_as_keras_does():
    model = _two_outputs(ek, True)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="one `sample_weight` array per output"):
        model.evaluate(X, {"a": YA, "b": YB}, sample_weight=[SWA, SWB], verbose=0)
    with pytest.raises(ValueError, match="sample_weight must have one entry per sample"):
        model.evaluate(X, {"a": YA, "b": YB}, sample_weight={"a": SWA, "b": SWB[:3]},
                       verbose=0)
    listed = _two_outputs(ek, False)
    with pytest.raises(ValueError, match="Invalid `weighted_metrics`"):
        listed.compile(loss="mse", weighted_metrics=["mae"])
        listed.evaluate(X, [YA, YB], verbose=0)


def test_saving_a_model_compiled_with_weighted_metrics_says_what_it_cannot_store(tmp_path):
    model = _single(ek)
    model.compile(optimizer="sgd", loss="mse", weighted_metrics=["mae"])
    with pytest.raises(NotImplementedError, match="weighted_metrics"):
        model.save(tmp_path / "m.ember")
