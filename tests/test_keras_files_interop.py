"""Keras 3's own files both ways: models trained and saved by real Keras 3 (``.keras``,
``.weights.h5``) load into ember and predict the same, and ember's files load into real Keras 3
and predict the same; compiled models keep their compile configuration and optimizer state."""
import json
import warnings
import zipfile

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras, to_numpy


def _rand(*shape, seed=0):
    return np.random.RandomState(seed).rand(*shape).astype(np.float32)


def _mlp(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((5,)), L.Dense(8, activation="relu"),
                             L.Dropout(0.3), L.Dense(3, activation="softmax")])


def _cnn(keras):
    L = keras.layers
    return keras.Sequential([
        keras.Input((10, 10, 2)), L.Conv2D(4, 3, padding="same", activation="relu"),
        L.BatchNormalization(), L.MaxPooling2D(), L.Conv2D(3, 2), L.AveragePooling2D(2),
        L.Flatten(), L.Dense(2)])


def _recurrent(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(12, 4),
                             L.LSTM(5, return_sequences=True), L.GRU(3), L.Dense(1)])


def _multi_input(keras):
    L = keras.layers
    seq = keras.Input((6, 8), name="seq")
    ids = keras.Input((6,), dtype="int32", name="ids")
    x = L.LSTM(3, return_sequences=True)(seq)
    x = L.Bidirectional(L.GRU(2))(x)
    e = L.Flatten()(L.Embedding(10, 4)(ids))
    y = L.BatchNormalization()(L.Concatenate()([x, e]))
    y = L.Dense(2)(L.Dropout(0.1)(y))
    return keras.Model([seq, ids], y)


def _shared_and_nested(keras):
    L = keras.layers
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    trunk = L.Dense(4, activation="tanh", name="trunk")
    side_in = keras.Input((3,), name="side_in")
    side = keras.Model(side_in, L.Dense(2, name="side_dense")(side_in), name="side")
    merged = L.concatenate([trunk(a), trunk(b), side(a)])
    return keras.Model([a, b], [L.Dense(1, name="out")(merged)])


def _nested_sequential(keras):
    L = keras.layers
    inp = keras.Input((5,))
    block = keras.Sequential([keras.Input((5,)), L.Dense(4, activation="relu"),
                              L.BatchNormalization()], name="block")
    return keras.Model(inp, L.Dense(2)(block(inp)))


def _inputs(kind):
    if kind is _cnn:
        return _rand(4, 10, 10, 2, seed=1)
    if kind is _recurrent:
        return np.random.RandomState(2).randint(0, 12, (4, 7)).astype(np.int32)
    if kind is _multi_input:
        return [_rand(4, 6, 8, seed=3), np.random.RandomState(4).randint(0, 10, (4, 6))
                .astype(np.int32)]
    if kind is _shared_and_nested:
        return [_rand(4, 3, seed=5), _rand(4, 3, seed=6)]
    return _rand(4, 5, seed=7)


def _targets(model_output_shape, seed=9):
    return _rand(4, *model_output_shape[1:], seed=seed)


@pytest.fixture(autouse=True)
def _quiet_real_keras():
    with warnings.catch_warnings():  # real Keras' own __array__ warning under NumPy 2
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        yield


MODELS = [_mlp, _cnn, _recurrent, _multi_input, _shared_and_nested, _nested_sequential]


def _trained(keras, kind, by_name=True):
    model = kind(keras)
    if by_name:
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    else:
        model.compile(optimizer="adam", loss=keras.losses.MeanSquaredError(),
                      metrics=[keras.metrics.MeanAbsoluteError()])
    x = _inputs(kind)
    model.fit(x, _targets(model.output_shape), epochs=2, batch_size=2, verbose=0)
    return model, x


@pytest.mark.parametrize("writer", ["keras", "ember"])
@pytest.mark.parametrize("kind", MODELS, ids=lambda k: k.__name__.strip("_"))
def test_files_of_one_library_load_into_the_other(kind, writer, tmp_path):
    """.keras (whole model, compiled) and .weights.h5 files: same predictions (1e-5)."""
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    model, x = _trained(saving, kind)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    _assert_loads_the_same(loading, kind, model, x, tmp_path / "m.keras",
                           tmp_path / "m.weights.h5")


def _assert_loads_the_same(loading, kind, model, x, model_file, weights_file):
    """load_model(model_file) and a fresh kind(loading) given load_weights(weights_file) predict
    as `model` does (1e-5); the loaded model keeps the optimizer's iteration count."""
    expected = to_numpy(model.predict(x, verbose=0))
    loaded = loading.models.load_model(model_file)
    np.testing.assert_allclose(to_numpy(loaded.predict(x, verbose=0)), expected, rtol=1e-5,
                               atol=1e-5)
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    fresh = kind(loading)
    fresh.load_weights(weights_file)
    np.testing.assert_allclose(to_numpy(fresh.predict(x, verbose=0)), expected, rtol=1e-5,
                               atol=1e-5)


def _dense(keras):
    L = keras.layers
    return keras.Sequential([keras.Input((5,)), L.Dense(8, activation="tanh"), L.Dense(3)])


def _optimizer_variables(model):
    """The optimizer's variables in Keras' order (iterations, learning rate, slots)."""
    if hasattr(model.optimizer, "_inner"):
        from ember.keras import keras_optimizer_vars
        from ember.keras.keras_h5_layout import layout
        return keras_optimizer_vars.to_keras(model, layout(model))
    return [to_numpy(v.value) for v in model.optimizer.variables]


OPTIMIZERS = {"adam": lambda lib: lib.optimizers.Adam(0.01),
              "adam_amsgrad": lambda lib: lib.optimizers.Adam(0.01, amsgrad=True),
              "sgd_momentum": lambda lib: lib.optimizers.SGD(0.05, momentum=0.9),
              "sgd_nesterov": lambda lib: lib.optimizers.SGD(0.05, momentum=0.5, nesterov=True),
              "adamw": lambda lib: lib.optimizers.AdamW(0.01)}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("writer", ["keras", "ember"])
def test_training_resumes_from_the_file_of_the_other_library(writer, optimizer, tmp_path):
    """The optimizer's variables travel with the file (compared directly), and one more epoch
    after loading gives the weights the saving library reaches itself."""
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    model = _dense(saving)
    model.set_weights([_rand(*w.shape, seed=i) - 0.5 for i, w in
                       enumerate(model.get_weights())])  # (the same start every run)
    model.compile(optimizer=OPTIMIZERS[optimizer](saving), loss="mse")
    x, y = _rand(4, 5, seed=7), _rand(4, 3, seed=8)
    model.fit(x, y, epochs=3, batch_size=2, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = loading.models.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer).__name__ == type(model.optimizer).__name__
    saved_vars = _optimizer_variables(model)
    assert len(saved_vars) > 2 + (optimizer == "adam_amsgrad")
    for ours, theirs in zip(_optimizer_variables(loaded), saved_vars, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)
    y = _targets(model.output_shape, seed=11)
    model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    for ours, theirs in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(to_numpy(ours), to_numpy(theirs), rtol=1e-5, atol=1e-6)


def test_an_optimizer_whose_state_ember_does_not_map_warns_both_ways(tmp_path):
    keras = real_keras()
    for lib in (keras, ek):
        model = _dense(lib)
        model.compile(optimizer=lib.optimizers.RMSprop(), loss="mse")
        model.fit(_rand(4, 5), _rand(4, 3), verbose=0)
        if lib is ek:
            with pytest.warns(UserWarning, match="does not store the state of the RMSprop"):
                model.save(tmp_path / "ember.keras")
        else:
            model.save(tmp_path / "keras.keras")
    with pytest.warns(UserWarning, match="skipping the optimizer state.*RMSprop maps none"):
        loaded = ek.models.load_model(tmp_path / "keras.keras")
    assert loaded.compiled and type(loaded.optimizer).__name__ == "RMSprop"


def test_the_zip_holds_what_keras_writes(tmp_path):
    model, _ = _trained(ek, _mlp)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json",
                                              "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
        meta = json.loads(archive.read("metadata.json"))
    assert meta["keras_version"].startswith("3.")
    assert (config["module"], config["class_name"], config["registered_name"]) == \
        ("keras", "Sequential", None)
    dense = config["config"]["layers"][1]
    assert (dense["module"], dense["class_name"]) == ("keras.layers", "Dense")
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    compiled = config["compile_config"]
    assert compiled["optimizer"]["class_name"] == "Adam"
    assert compiled["optimizer"]["module"] == "keras.optimizers"
    assert (compiled["loss"], compiled["metrics"]) == ("mse", ["mae"])


@pytest.mark.parametrize("writer", ["keras", "ember"])
@pytest.mark.parametrize("kind", MODELS, ids=lambda k: k.__name__.strip("_"))
def test_legacy_h5_files_load_into_the_other_library(kind, writer, tmp_path):
    """model.save("m.h5") (Keras 3's legacy HDF5 format): same predictions, compiled, with the
    optimizer's iteration count; load_weights reads the same file. (Losses and metrics as
    objects: Keras 3.15 cannot reload its own legacy file compiled with loss="mse".)"""
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    model, x = _trained(saving, kind, by_name=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "You are saving your model as an HDF5 file")
        model.save(tmp_path / "m.h5")
    _assert_loads_the_same(loading, kind, model, x, tmp_path / "m.h5", tmp_path / "m.h5")


def _two_outputs(keras):
    L = keras.layers
    inp = keras.Input((5,), name="x")
    hidden = L.Dense(6, activation="tanh")(inp)
    return keras.Model(inp, {"value": L.Dense(2, name="value")(hidden),
                             "prob": L.Dense(1, activation="sigmoid", name="prob")(hidden)})


@pytest.mark.parametrize("writer", ["keras", "ember"])
def test_per_output_losses_weights_and_metrics_travel(writer, tmp_path):
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    model = _two_outputs(saving)
    model.compile(optimizer="sgd",
                  loss={"value": "mse", "prob": saving.losses.BinaryCrossentropy()},
                  loss_weights={"value": 1.0, "prob": 0.5},
                  metrics={"value": ["mae"], "prob": [saving.metrics.BinaryAccuracy()]})
    x = _rand(6, 5, seed=1)
    y = {"value": _rand(6, 2, seed=2), "prob": (_rand(6, 1, seed=3) > 0.5).astype(np.float32)}
    model.fit(x, y, epochs=2, batch_size=3, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = loading.models.load_model(tmp_path / "m.keras")
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)


@pytest.mark.parametrize("writer", ["keras", "ember"])
def test_weighted_metrics_travel(writer, tmp_path):
    keras = real_keras()
    saving, loading = (keras, ek) if writer == "keras" else (ek, keras)
    model = _mlp(saving)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    x, y = _rand(8, 5, seed=4), np.arange(8) % 3
    weights = np.linspace(0.1, 1.0, 8).astype(np.float32)
    model.fit(x, y, sample_weight=weights, epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = loading.models.load_model(tmp_path / "m.keras")
    expected = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected) and "weighted_accuracy" in got
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, err_msg=key)
