"""compile/train_on_batch/evaluate/predict of models with several inputs and outputs against
real Keras 3 (torch backend) on the same weights and data: the logs' keys and their order, the
loss and metric values after one SGD step, evaluate's list order and predict's structure."""
import warnings

import numpy as np
import pytest

import ember
from ember import keras as ek

import multi_io_models as mm
from keras_reference import real_keras, to_numpy

S = "sparse_categorical_crossentropy"
X, Z, LABELS, TARGET = mm.data()
WIDE = TARGET * np.ones((1, 3), np.float32)  # a regression target for the 3-wide output


@pytest.fixture(autouse=True)
def _fresh():
    ek.utils.clear_session()
    ember.manual_seed(0)


def _inputs(several):
    return {None: X, "list": [X, Z], "dict": {"x": X, "z": Z}}[several]


def _run_pair(kind, y, compile_kwargs, several=None, functional=False):
    """(ember result, Keras result): train_on_batch's dict, then evaluate's list, then predict,
    each model compiled alike with SGD(0.1) from the same weights. ``compile_kwargs`` may be a
    function of the library (ember.keras or keras), for loss and metric objects."""
    keras = real_keras()
    inputs = _inputs(several)
    names = ["cls", "reg"] if functional and kind != "single" else (
        ["cls"] if functional else None)
    ember_model = mm.build(mm.ember_model(kind, names), inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about subclassed models' build()
        keras_model = mm.build(mm.keras_model(keras, kind, functional, several), inputs)
    results = []
    for model, lib in ((ember_model, ek), (keras_model, keras)):
        with warnings.catch_warnings():
            if model is keras_model:
                warnings.simplefilter("ignore")
            kwargs = compile_kwargs(lib) if callable(compile_kwargs) else compile_kwargs
            model.compile(optimizer=lib.optimizers.SGD(0.1), **kwargs)
            logs = model.train_on_batch(inputs, y, return_dict=True)
            evaluated = model.evaluate(inputs, y, verbose=0)
            predicted = model.predict(inputs, verbose=0)
        results.append((logs, evaluated, predicted))
    return results


def _assert_same(ember_result, keras_result):
    (e_logs, e_eval, e_pred), (k_logs, k_eval, k_pred) = ember_result, keras_result
    assert list(e_logs) == list(k_logs)  # the keys and their order
    np.testing.assert_allclose(list(e_logs.values()), [float(v) for v in k_logs.values()],
                               rtol=1e-5, atol=1e-6)
    assert isinstance(e_eval, list) == isinstance(k_eval, list)
    np.testing.assert_allclose(np.atleast_1d(e_eval), np.atleast_1d(k_eval), rtol=1e-5,
                               atol=1e-6)
    assert type(e_pred) is type(k_pred)
    if isinstance(k_pred, dict):
        assert list(e_pred) == list(k_pred)
        pairs = [(e_pred[key], k_pred[key]) for key in k_pred]
    elif isinstance(k_pred, (list, tuple)):
        assert len(e_pred) == len(k_pred)
        pairs = list(zip(e_pred, k_pred))
    else:
        pairs = [(e_pred, k_pred)]
    for e, k in pairs:
        np.testing.assert_allclose(e, to_numpy(k), rtol=1e-5, atol=1e-6)


CASES = {
    "list, two losses": ("list", [LABELS, TARGET], {"loss": [S, "mse"]}),
    "list, list of metric lists": ("list", [LABELS, TARGET], {
        "loss": [S, "mse"], "metrics": [["accuracy"], ["mae", "mse"]]}),
    "list, one metric per output": ("list", [LABELS, TARGET], {
        "loss": [S, "mse"], "metrics": ["accuracy", "mae"], "loss_weights": [1.0, 0.5]}),
    "list, None loss and metrics": ("list", [LABELS, TARGET], {
        "loss": [S, None], "metrics": [["accuracy"], None]}),
    "list, same metric twice": ("list", [WIDE, TARGET], {
        "loss": ["mse", "mae"], "metrics": [["mae"], ["mae"]]}),
    "list, a loss name shared": ("list", [WIDE, TARGET], {
        "loss": "mse", "loss_weights": 0.5}),
    "list, loss objects and functions": ("list", [LABELS, TARGET], lambda lib: {
        "loss": [lib.losses.SparseCategoricalCrossentropy(), lib.losses.mean_absolute_error],
        "metrics": [[lib.metrics.SparseCategoricalAccuracy(name="hits")],
                    [lib.metrics.MeanAbsoluteError()]]}),
    "list, crossentropy chosen by shape": ("list", [LABELS, TARGET], {"loss": ["ce", "mse"]}),
    "list, dict loss_weights": ("list", [LABELS, TARGET], {
        "loss": [S, "mse"], "loss_weights": {"a": 1.0, "b": 0.25}}),
    "tuple outputs, tuple y": ("tuple", (LABELS, TARGET), {"loss": [S, "mse"]}),
    "tuple outputs, list y": ("tuple", [LABELS, TARGET], {"loss": [S, "mse"]}),
    "dict, dicts everywhere": ("dict", {"cls": LABELS, "reg": TARGET}, {
        "loss": {"cls": S, "reg": "mse"}, "metrics": {"cls": "accuracy", "reg": ["mae"]},
        "loss_weights": {"cls": 2.0, "reg": 0.5}}),
    "dict, partial metrics": ("dict", {"cls": LABELS, "reg": TARGET}, {
        "loss": [S, "mse"], "metrics": {"reg": "mae"}}),
    "dict out of sorted order, list loss": ("rdict", [LABELS, TARGET], {"loss": [S, "mse"]}),
    "dict out of sorted order, list metrics": ("rdict", {"cls": LABELS, "reg": TARGET}, {
        "loss": {"reg": "mse", "cls": S}, "metrics": ["accuracy", "mae"]}),
    "dict, a loss for one output only": ("dict", {"cls": LABELS}, {"loss": {"cls": S}}),
    "single output, loss weight": ("single", LABELS, {
        "loss": S, "metrics": ["accuracy"], "loss_weights": 0.5}),
    "single output, loss list": ("single", LABELS, {"loss": [S], "metrics": [["accuracy"]]}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_subclassed_model_logs_match_keras(case):
    kind, y, compile_kwargs = CASES[case]
    _assert_same(*_run_pair(kind, y, compile_kwargs))


FUNCTIONAL_CASES = {
    "named list outputs": ("list", [LABELS, TARGET], None, {
        "loss": [S, "mse"], "metrics": ["accuracy", "mae"]}),
    "loss dict by output name, y dict": ("list", {"cls": LABELS, "reg": TARGET}, None, {
        "loss": {"reg": "mse", "cls": S}, "metrics": {"cls": ["accuracy"]},
        "loss_weights": {"cls": 0.3, "reg": 2.0}}),
    "one loss for every named output": ("list", [WIDE, TARGET], None, {
        "loss": "mse", "metrics": [["mae"], ["mae"]]}),
    "two inputs as a list": ("list", [LABELS, TARGET], "list", {
        "loss": [S, "mse"], "metrics": [["acc"], ["mae"]]}),
    "two inputs as a dict": ("list", [LABELS, TARGET], "dict", {
        "loss": [S, "mse"], "metrics": [["acc"], ["mae"]]}),
    "single named output, loss dict": ("single", LABELS, None, {
        "loss": {"cls": S}, "metrics": ["accuracy"]}),
}


@pytest.mark.parametrize("case", list(FUNCTIONAL_CASES))
def test_output_names_contract_matches_functional_keras(case):
    """An ember model with ``output_names`` (what Functional models set) names logs and maps
    dict losses as a real Functional model with those output layers does."""
    kind, y, several, compile_kwargs = FUNCTIONAL_CASES[case]
    _assert_same(*_run_pair(kind, y, compile_kwargs, several=several, functional=True))


@pytest.mark.parametrize("several", ["list", "dict"])
def test_several_inputs_subclassed_match_keras(several):
    _assert_same(*_run_pair("dict", {"cls": LABELS, "reg": TARGET},
                            {"loss": {"cls": S, "reg": "mse"}, "metrics": {"cls": ["accuracy"]}},
                            several=several))


@pytest.mark.parametrize("kind, y, compile_kwargs", [
    ("list", [LABELS, TARGET], {"loss": [S, "mse"], "metrics": ["accuracy"]}),
    ("list", [LABELS, TARGET, TARGET], {"loss": [S, "mse"]}),
    ("list", LABELS, {"loss": [S, "mse"]}),
    ("list", [LABELS, TARGET], {"loss": [S, "mse"], "loss_weights": [1.0, 2.0, 3.0]}),
    ("list", [LABELS, TARGET], {"loss": "mse", "loss_weights": [1.0, 2.0]}),
    ("dict", {"cls": LABELS}, {"loss": {"cls": S, "reg": "mse"}}),
    ("dict", {"cls": LABELS, "reg": TARGET, "q": TARGET}, {"loss": {"cls": S, "reg": "mse"}}),
    ("dict", {"cls": LABELS, "reg": TARGET}, {"loss": "mse", "metrics": ["mae"]}),
])
def test_what_keras_rejects_ember_rejects(kind, y, compile_kwargs):
    keras = real_keras()
    for model, optimizer, module in ((mm.build(mm.ember_model(kind), X), "sgd", ek),
                                     (None, "sgd", keras)):
        if model is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = mm.build(mm.keras_model(keras, kind), X)
        model.compile(optimizer=optimizer, **compile_kwargs)
        with pytest.raises(ValueError), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.train_on_batch(X, y)


def test_fit_history_keys_match_keras_with_validation():
    keras = real_keras()
    y = {"cls": LABELS, "reg": TARGET}
    kwargs = {"loss": {"cls": S, "reg": "mse"}, "metrics": {"cls": ["accuracy"]}}
    ember_model = mm.build(mm.ember_model("dict"), X)
    ember_model.compile(optimizer=ek.optimizers.SGD(0.1), **kwargs)
    ember_history = ember_model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
                                    validation_split=0.25).history
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras_model = mm.build(mm.keras_model(keras, "dict"), X)
        keras_model.compile(optimizer=keras.optimizers.SGD(0.1), **kwargs)
        keras_history = keras_model.fit(X, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
                                        validation_split=0.25).history
    assert list(ember_history) == list(keras_history) == [
        "cls_accuracy", "cls_loss", "loss", "reg_loss", "val_cls_accuracy", "val_cls_loss",
        "val_loss", "val_reg_loss"]
    for key in keras_history:
        np.testing.assert_allclose(ember_history[key], keras_history[key], rtol=1e-4,
                                   err_msg=key)


def test_single_output_logs_are_sorted_like_keras():
    keras = real_keras()
    y = LABELS
    ember_model = mm.build(mm.ember_model("single"), X)
    metrics = ["sparse_categorical_accuracy", "accuracy"]
    ember_model.compile(optimizer="sgd", loss=S, metrics=metrics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras_model = mm.build(mm.keras_model(keras, "single"), X)
        keras_model.compile(optimizer="sgd", loss=S, metrics=metrics)
        keras_logs = keras_model.evaluate(X, y, verbose=0, return_dict=True)
        keras_list = keras_model.evaluate(X, y, verbose=0)
    assert list(ember_model.evaluate(X, y, verbose=0, return_dict=True)) == list(keras_logs) \
        == ["accuracy", "loss", "sparse_categorical_accuracy"]
    # evaluate's list keeps compile order: loss, sparse_categorical_accuracy, accuracy.
    ember_list = ember_model.evaluate(X, y, verbose=0)
    np.testing.assert_allclose(ember_list, keras_list, rtol=1e-5)
    assert ember_model.metrics_names == ["loss", "sparse_categorical_accuracy", "accuracy"]
    np.testing.assert_allclose(ember_list[0], keras_logs["loss"], rtol=1e-5)
