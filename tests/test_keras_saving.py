"""Keras-face saving: save_weights/load_weights, model.save/keras.models.load_model, errors."""
import numpy as np
import pytest

import ember
from ember import keras
from ember.keras import layers, losses, metrics, optimizers

OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"]


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()
    ember.manual_seed(0)


def _data(n=48, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 2, 3).astype(np.float32)
    y = rng.randint(0, 3, n).astype(np.int64)
    return x, y


def _model(softmax=True, input_layer=True):
    """Every built-in layer type: InputLayer, Flatten, Dense, Activation, Dropout."""
    stack = [layers.Input((2, 3))] if input_layer else []
    stack += [layers.Flatten(), layers.Dense(8), layers.Activation("tanh"),
              layers.Dropout(0.25), layers.Dense(3, activation="softmax" if softmax else None)]
    return keras.Sequential(stack)


def _assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


# ---- save_weights / load_weights -------------------------------------------------------------
def test_save_weights_round_trip_in_keras_order(tmp_path):
    x, _ = _data()
    model = _model()
    path = tmp_path / "m.weights.ember"
    model.save_weights(path)
    saved = ember.load(path)
    flat = [w for entry in saved["layers"] for w in entry["weights"]]
    assert [e["class_name"] for e in saved["layers"]] == ["Dense", "Dense"]
    for w, expected in zip(flat, model.get_weights()):
        np.testing.assert_array_equal(w, expected)

    other = _model()  # different initial weights
    assert not np.array_equal(other.get_weights()[0], model.get_weights()[0])
    other.load_weights(str(path))
    _assert_same_weights(model, other)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


def test_load_weights_builds_an_unbuilt_model_from_the_saved_input_shape(tmp_path):
    x, y = _data()
    model = _model(input_layer=False)  # built by fit, on the shape of x
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.weights.ember"
    model.save_weights(path)

    fresh = _model(input_layer=False)
    assert not fresh.built
    fresh.load_weights(path)
    assert fresh.built and fresh.input_shape == (None, 2, 3)
    _assert_same_weights(model, fresh)


def test_load_weights_into_unbuilt_model_without_saved_shape_is_a_clear_error(tmp_path):
    path = tmp_path / "m.weights.ember"
    _model().save_weights(path)
    data = ember.load(path)
    data["input_shape"] = None
    ember.save(data, path)
    with pytest.raises(ValueError, match=r"not built.*model\.build\(input_shape\)"):
        _model(input_layer=False).load_weights(path)


class _TwoDense(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(4, activation="relu")
        self.out = layers.Dense(2)

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def test_subclassed_model_weights_round_trip_and_lazy_build(tmp_path):
    x = np.random.RandomState(0).randn(5, 3).astype(np.float32)
    model = _TwoDense()
    expected = model(x).detach().numpy()
    path = tmp_path / "sub.weights.ember"
    model.save_weights(path)
    fresh = _TwoDense()
    fresh.load_weights(path)  # built by a probe call on the saved input shape
    np.testing.assert_array_equal(fresh(x).detach().numpy(), expected)
    model.save(tmp_path / "sub.ember")  # its class must be known again to load it
    with pytest.raises(ValueError, match="unknown model class '_TwoDense'"):
        keras.models.load_model(tmp_path / "sub.ember")
    # As in Keras, __init__ takes no name/trainable, so the auto config cannot revive it.
    with pytest.raises(ValueError, match="unable to revive _TwoDense"):
        keras.models.load_model(tmp_path / "sub.ember", custom_objects={"_TwoDense": _TwoDense})


def test_load_weights_shape_mismatch_names_layer_and_both_shapes(tmp_path):
    path = tmp_path / "m.weights.ember"
    _model().save_weights(path)
    wider = keras.Sequential([layers.Input((2, 3)), layers.Flatten(), layers.Dense(9),
                              layers.Dense(3)])
    before = wider.get_weights()
    with pytest.raises(ember.ShapeError, match=r"'dense_2'.*\(6, 9\).*\(6, 8\)"):
        wider.load_weights(path)
    for w, b in zip(wider.get_weights(), before):  # nothing was half-loaded
        np.testing.assert_array_equal(w, b)


def test_load_weights_layer_count_mismatch(tmp_path):
    path = tmp_path / "m.weights.ember"
    _model().save_weights(path)
    deeper = keras.Sequential([layers.Input((2, 3)), layers.Flatten(), layers.Dense(8),
                               layers.Dense(8), layers.Dense(3)])
    with pytest.raises(ValueError, match="layer count mismatch.*3 layers with weights.*has 2"):
        deeper.load_weights(path)


def test_load_weights_from_a_whole_model_file(tmp_path):
    model = _model()
    model.save(tmp_path / "m.ember")
    other = _model()
    other.load_weights(tmp_path / "m.ember")
    _assert_same_weights(model, other)


# ---- save / load_model -----------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("loss_kind", ["sparse", "categorical_logits"])
def test_save_load_model_round_trip_and_resumed_training(tmp_path, optimizer, loss_kind):
    x, y = _data()
    if loss_kind == "sparse":
        model = _model()
        loss, targets = "sparse_categorical_crossentropy", y
    else:
        model = _model(softmax=False)
        loss = losses.CategoricalCrossentropy(from_logits=True)
        targets = keras.utils.to_categorical(y, 3)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    model.fit(x, targets, epochs=2, batch_size=16, verbose=0, shuffle=False)

    path = tmp_path / "model.ember"
    model.save(path)
    loaded = keras.models.load_model(path)

    assert type(loaded) is keras.Sequential
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.get_config() == model.get_config()
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.iterations == model.optimizer.iterations == 6
    if loss_kind == "categorical_logits":
        assert isinstance(loaded.loss, losses.CategoricalCrossentropy) and loaded.loss.from_logits
    else:
        assert loaded.loss == "sparse_categorical_crossentropy"
    assert loaded.metrics_names == model.metrics_names == ["loss", "accuracy"]

    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, targets, verbose=0) == model.evaluate(x, targets, verbose=0)

    # One more epoch from each (same dropout draws): the optimizer state makes them agree.
    ember.manual_seed(7)
    model.fit(x, targets, epochs=1, batch_size=16, verbose=0, shuffle=False)
    ember.manual_seed(7)
    loaded.fit(x, targets, epochs=1, batch_size=16, verbose=0, shuffle=False)
    _assert_same_weights(model, loaded)


def test_resumed_training_needs_the_optimizer_state(tmp_path):
    # Guards the test above: without the saved state, Adam's continuation differs.
    x, y = _data()
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    model.save(tmp_path / "m.ember")
    stateless = keras.models.load_model(tmp_path / "m.ember", compile=False)
    assert not stateless.compiled
    stateless.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    ember.manual_seed(7)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    ember.manual_seed(7)
    stateless.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    assert not np.array_equal(model.get_weights()[0], stateless.get_weights()[0])


def test_saving_module_and_untrained_compiled_model(tmp_path):
    x, y = _data()
    model = _model()
    opt = optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)
    model.compile(optimizer=opt, loss=losses.SparseCategoricalCrossentropy(),
                  metrics=[metrics.SparseCategoricalAccuracy(name="acc"),
                           "sparse_categorical_accuracy"])
    keras.saving.save_model(model, tmp_path / "m.ember")  # optimizer not built yet
    loaded = keras.saving.load_model(tmp_path / "m.ember")
    assert loaded.optimizer.get_config() == opt.get_config()
    assert loaded.metrics_names == ["loss", "acc", "sparse_categorical_accuracy"]
    ember.manual_seed(7)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    ember.manual_seed(7)
    loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    _assert_same_weights(model, loaded)


def test_uncompiled_model_and_unbuilt_first_layer_shape(tmp_path):
    x, _ = _data()
    model = keras.Sequential([layers.Flatten(input_shape=(2, 3)), layers.Dense(4)])
    model.save(tmp_path / "m.ember")
    loaded = keras.models.load_model(tmp_path / "m.ember")
    assert not loaded.compiled and loaded.input_shape == (None, 2, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_layer_get_config_from_config_round_trip():
    dense = layers.Dense(5, activation="relu", use_bias=False,
                         kernel_initializer=keras.initializers.RandomNormal(stddev=0.3, seed=3),
                         name="d", trainable=False)
    rebuilt = layers.Dense.from_config(dense.get_config())
    assert rebuilt.get_config() == dense.get_config()
    assert isinstance(rebuilt.kernel_initializer, keras.initializers.RandomNormal)
    for layer in (layers.Dropout(0.3, seed=1), layers.Flatten(), layers.Activation("gelu"),
                  layers.InputLayer(shape=(4,))):
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_loss_metric_optimizer_configs_round_trip():
    for loss in (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
                 losses.SparseCategoricalCrossentropy(from_logits=True),
                 losses.BinaryCrossentropy(label_smoothing=0.2), losses.Huber(delta=2.0),
                 losses.MeanSquaredError(reduction="sum")):
        assert type(loss).from_config(loss.get_config()).get_config() == loss.get_config()
    acc = metrics.BinaryAccuracy(threshold=0.7, name="b")
    assert metrics.BinaryAccuracy.from_config(acc.get_config()).threshold == 0.7
    for name in OPTIMIZERS:
        opt = optimizers.get(name)
        assert type(opt).from_config(opt.get_config()).get_config() == opt.get_config()


# ---- errors ----------------------------------------------------------------------------------
def test_wrong_suffixes(tmp_path):
    """Keras' own suffixes (.keras, .weights.h5, .h5) are written by saving_keras_formats.py
    (tests/test_keras_files*.py); anything else is refused as Keras 3 refuses it."""
    model = _model()
    for bad in ("m.h5", "m.hdf5", "m.keras"):
        with pytest.raises(ValueError, match=r"must end in '\.weights\.h5'"):
            model.save_weights(tmp_path / bad)
    with pytest.raises(ValueError, match=r"must end in '\.weights\.ember'"):
        model.save_weights(tmp_path / "m.npz")
    with pytest.raises(ValueError, match=r"must end in '\.ember'"):
        model.save(tmp_path / "m.bin")
    with pytest.raises(ValueError, match="save_weights"):
        model.save(tmp_path / "m.weights.ember")
    assert list(tmp_path.iterdir()) == []


def test_weights_file_is_not_a_model_file(tmp_path):
    _model().save_weights(tmp_path / "m.weights.ember")
    with pytest.raises(ValueError, match="weights only.*load_weights"):
        keras.models.load_model(tmp_path / "m.weights.ember")


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        keras.models.load_model(tmp_path / "absent.ember")
    with pytest.raises(FileNotFoundError):
        _model().load_weights(tmp_path / "absent.weights.ember")


def test_corrupt_and_foreign_files(tmp_path):
    model = _model()
    good = tmp_path / "good.ember"
    model.save(good)
    truncated = tmp_path / "truncated.ember"
    truncated.write_bytes(good.read_bytes()[:-20])
    garbage = tmp_path / "garbage.ember"
    garbage.write_bytes(b"\x00\x01not an ember file at all" * 4)
    foreign = tmp_path / "state.ember"
    ember.save(ember.nn.Linear(2, 2).state_dict(), foreign)
    for path in (truncated, garbage, foreign):
        with pytest.raises(ValueError):
            keras.models.load_model(path)
        with pytest.raises(ValueError):
            model.load_weights(path)


def _tampered(tmp_path, change):
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "m.ember"
    model.save(path)
    data = ember.load(path)
    change(data)
    ember.save(data, path)
    return path


def test_unknown_layer_class_in_a_tampered_file(tmp_path):
    def rename(data):
        data["config"]["layers"][2]["class_name"] = "os.system"
    with pytest.raises(ValueError, match=r"Unknown layer class: 'os\.system'"):
        keras.models.load_model(_tampered(tmp_path, rename))


def test_other_tampering_raises_value_error(tmp_path):
    changes = [
        (lambda d: d.__setitem__("class_name", "MyModel"), "unknown model class"),
        (lambda d: d["compile_config"]["optimizer"].__setitem__("class_name", "Evil"),
         "Unknown optimizer class: 'Evil'"),
        (lambda d: d["config"]["layers"][2]["config"].__setitem__("evil", 1),
         "Invalid config for layer class Dense"),
        (lambda d: d.__setitem__("config", [1, 2]), "invalid model config"),
        (lambda d: d.pop("weights"), "invalid structure"),
        (lambda d: d["weights"]["layers"][0].__setitem__("weights", ["a", "b"]),
         "no float array"),
        (lambda d: d["optimizer"]["state_dict"]["state"][0].__setitem__(
            "exp_avg", ember.zeros(2, 2)), r"'exp_avg'.*\(2, 2\).*\(8, 6\)"),
        (lambda d: d["optimizer"]["state_dict"]["state"].__setitem__(99, {}),
         "unknown variable 99"),
        (lambda d: d["optimizer"]["state_dict"]["param_groups"][0].__setitem__("lr", "fast"),
         "does not fit Adam"),
    ]
    for change, message in changes:
        path = _tampered(tmp_path, change)
        with pytest.raises(ValueError, match=message):
            keras.models.load_model(path)
        keras.utils.clear_session()


def test_custom_callables_are_refused_at_save_time(tmp_path):
    def my_act(x):
        return x * 2.0

    model = keras.Sequential([layers.Input((3,)), layers.Dense(2, activation=my_act)])
    with pytest.raises(NotImplementedError, match="custom activation 'my_act'"):
        model.save(tmp_path / "m.ember")
    model = keras.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss=lambda t, p: (p - t).abs().mean(dim=-1))
    with pytest.raises(NotImplementedError, match="loss"):
        model.save(tmp_path / "m.ember")
    assert not (tmp_path / "m.ember").exists()
    model.save_weights(tmp_path / "m.weights.ember")  # weights need no names


def test_overwrite_false_and_unbuilt_model(tmp_path):
    model = _model()
    model.save(tmp_path / "m.ember")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.ember", overwrite=False)
    with pytest.raises(ValueError, match="not been built"):
        _model(input_layer=False).save_weights(tmp_path / "u.weights.ember")
