"""Data handling for models with several inputs and outputs: x and y as lists, tuples or dicts
in fit / evaluate / predict / *_on_batch, validation data and splits, shuffling, the returned
structures, and the errors for data or compile arguments that do not fit the model."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers

import multi_io_models as mm

S = "sparse_categorical_crossentropy"
X, Z, LABELS, TARGET = mm.data(n=40)


@pytest.fixture(autouse=True)
def _fresh():
    ek.utils.clear_session()
    ember.manual_seed(0)


def _compiled(kind="dict", output_names=None, inputs=X, **kwargs):
    model = mm.build(mm.ember_model(kind, output_names), inputs)
    kwargs.setdefault("loss", {"cls": S, "reg": "mse"} if kind == "dict" else [S, "mse"])
    model.compile(optimizer=ek.optimizers.SGD(0.05), **kwargs)
    return model


def test_fit_two_inputs_two_outputs_learns():
    # Learnable targets: the class of x[:, 0] + z[:, 0] and a linear function of the inputs.
    labels = np.digitize(X[:, 0] + Z[:, 0], [-0.7, 0.7])
    target = (X[:, :1] - 2.0 * Z[:, 1:]).astype(np.float32)
    model = _compiled("dict", inputs=[X, Z], metrics={"cls": ["accuracy"], "reg": ["mae"]},
                      loss_weights={"cls": 1.0, "reg": 0.5})
    y = {"cls": labels, "reg": target}
    before = model.evaluate([X, Z], y, verbose=0, return_dict=True)
    history = model.fit([X, Z], y, epochs=30, batch_size=8, verbose=0).history
    after = model.evaluate([X, Z], y, verbose=0, return_dict=True)
    assert list(history) == ["cls_accuracy", "cls_loss", "loss", "reg_loss", "reg_mae"]
    assert after["loss"] < 0.5 * before["loss"]
    assert after["reg_mae"] < before["reg_mae"] and after["cls_accuracy"] > 0.8
    # "loss" is the weighted sum of the per-output losses.
    np.testing.assert_allclose(after["loss"], after["cls_loss"] + 0.5 * after["reg_loss"],
                               rtol=1e-5)


def test_validation_data_and_split_take_structures():
    model = _compiled("list", inputs={"x": X, "z": Z}, metrics=[["accuracy"], None])
    history = model.fit({"x": X, "z": Z}, [LABELS, TARGET], epochs=2, batch_size=16, verbose=0,
                        validation_data=({"x": X[:10], "z": Z[:10]}, (LABELS[:10], TARGET[:10])))
    expected = ["accuracy", "loss", "mse_loss", "sparse_categorical_crossentropy_loss"]
    assert list(history.history) == expected + ["val_" + key for key in expected]
    split = model.fit({"x": X, "z": Z}, [LABELS, TARGET], epochs=1, batch_size=16, verbose=0,
                      validation_split=0.25, shuffle=False)
    # The validation part is the last quarter: the same numbers as evaluating it directly.
    direct = model.evaluate({"x": X[30:], "z": Z[30:]}, [LABELS[30:], TARGET[30:]], verbose=0,
                            return_dict=True, batch_size=16)
    assert split.history["val_mse_loss"][0] == pytest.approx(direct["mse_loss"], rel=1e-6)


class _Identity(ek.Model):
    """Returns its two inputs through an identity Dense: zero loss only when every target is
    paired with its own input."""

    def __init__(self):
        super().__init__()
        self.same = layers.Dense(3, use_bias=False)

    def call(self, inputs):
        return {"a": self.same(inputs["a"]), "b": self.same(inputs["b"])}


def test_shuffled_batches_keep_inputs_and_targets_paired():
    a = np.arange(60, dtype=np.float32).reshape(20, 3)
    b = -a
    model = _Identity()
    model({"a": a, "b": b})
    model.same.set_weights([np.eye(3, dtype=np.float32)])
    model.compile(optimizer=ek.optimizers.SGD(0.0), loss="mse")
    history = model.fit({"a": a, "b": b}, {"a": a, "b": b}, epochs=3, batch_size=3,
                        shuffle=True, verbose=0)
    assert history.history["loss"] == [0.0, 0.0, 0.0]
    history = model.fit({"a": a, "b": b}, {"a": a, "b": b[::-1].copy()}, epochs=1, verbose=0)
    assert history.history["b_loss"][0] > 0  # the check can fail


@pytest.mark.parametrize("kind", ["list", "tuple", "dict", "rdict"])
def test_predict_returns_the_output_structure(kind):
    model = mm.build(mm.ember_model(kind), [X, Z])
    with ember.no_grad():
        direct = model([X, Z])
    predicted = model.predict([X, Z], batch_size=7, verbose=0)  # 6 batches, concatenated
    on_batch = model.predict_on_batch([X, Z])
    for result in (predicted, on_batch):
        assert type(result) is type(direct)
        if isinstance(direct, dict):
            assert list(result) == list(direct)
            pairs = [(result[key], direct[key]) for key in direct]
        else:
            pairs = list(zip(result, direct))
        for got, want in pairs:
            assert isinstance(got, np.ndarray) and got.shape[0] == len(X)
            # (float32 sums over other batch sizes may round differently)
            np.testing.assert_allclose(got, want.numpy(), rtol=1e-5, atol=1e-6)


def test_evaluate_and_batch_methods_return_keras_structures():
    model = _compiled("dict", metrics={"reg": ["mae"]})
    y = {"cls": LABELS, "reg": TARGET}
    logs = model.evaluate(X, y, verbose=0, return_dict=True)
    assert list(logs) == ["cls_loss", "loss", "reg_loss", "reg_mae"]
    values = model.evaluate(X, y, verbose=0)
    # Keras' order: loss, the metrics under their own names (none here: "reg_mae" is not
    # "mae"), the per-output losses, then the remaining keys sorted.
    assert values == [logs["loss"], logs["cls_loss"], logs["reg_loss"], logs["reg_mae"]]
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "reg_mae"]
    assert model.test_on_batch(X, y) == pytest.approx(values, rel=1e-6)
    trained = model.train_on_batch(X, y, return_dict=True)
    assert trained["loss"] == pytest.approx(logs["loss"], rel=1e-6)  # before the step


def test_tensors_and_tuples_are_accepted_as_structures():
    model = _compiled("tuple")
    y = (ember.from_numpy(LABELS.astype(np.int64)), ember.from_numpy(TARGET))
    assert model.evaluate(ember.from_numpy(X), y, verbose=0) == pytest.approx(
        model.evaluate(X, [LABELS, TARGET], verbose=0), rel=1e-6)
    two_inputs = mm.build(mm.ember_model("tuple"), (X, Z))
    assert isinstance(two_inputs.predict((ember.from_numpy(X), Z), verbose=0), tuple)


# ---- errors ----------------------------------------------------------------------------------
def test_mismatched_sample_counts_name_every_size():
    model = _compiled("list")
    with pytest.raises(ValueError, match=r"(?s)cardinality.*'x' sizes: 40, 30.*'y' sizes: 40, 40"):
        model.fit([X, Z[:30]], [LABELS, TARGET], verbose=0)
    with pytest.raises(ValueError, match=r"(?s)'x' sizes: 40.*'y' sizes: 40, 39"):
        model.evaluate(X, [LABELS, TARGET[:39]], verbose=0)


def test_unknown_and_missing_keys_are_named():
    model = _compiled("dict")
    with pytest.raises(ValueError, match=r"keys \['rgr'\] that are not outputs.*'cls', 'reg'"):
        model.train_on_batch(X, {"cls": LABELS, "reg": TARGET, "rgr": TARGET})
    with pytest.raises(ValueError, match=r"no targets for outputs \['reg'\]"):
        model.evaluate(X, {"cls": LABELS}, verbose=0)
    with pytest.raises(ValueError, match="without output names"):
        _compiled("list").train_on_batch(X, {"cls": LABELS, "reg": TARGET})
    named = _compiled("list", inputs={"x": X, "z": Z})
    named.input_names = ["x", "z"]
    with pytest.raises(ValueError, match=r'Missing data for input "z".*\[\'x\', \'z\'\]'):
        named.predict({"x": X}, verbose=0)
    with pytest.raises(ValueError, match=r"keys \['q'\] that are not inputs"):
        named.predict({"x": X, "z": Z, "q": Z}, verbose=0)


def test_compile_arguments_that_do_not_fit_the_outputs():
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'msee'"):
        _compiled("list", loss=[S, "msee"])
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        _compiled("list", metrics=[["accuracy"], ["maee"]])
    with pytest.raises(ValueError, match="Expected `loss_weights` argument to be a float"):
        _compiled("list", loss_weights=2)  # Keras: an int is not a float
    with pytest.raises(ValueError, match="Expected `metrics` argument to be a list"):
        _compiled("list", metrics="accuracy")
    model = _compiled("list", loss=[S, "mse", "mae"])
    with pytest.raises(ValueError, match="`loss` has 3 entries, but the model has 2 outputs"):
        model.train_on_batch(X, [LABELS, TARGET])
    model = _compiled("list", loss={"cls": S, "reg": "mse"})
    with pytest.raises(ValueError, match=r"`loss` is a dict \['cls', 'reg'\].*without output"):
        model.train_on_batch(X, [LABELS, TARGET])
    model = _compiled("list", output_names=["cls", "reg"], loss={"cls": S})
    with pytest.raises(ValueError, match=r"Expected keys \['cls', 'reg'\] in loss dict"):
        model.train_on_batch(X, [LABELS, TARGET])
    model = _compiled("list", metrics=["accuracy"])
    with pytest.raises(ValueError, match=r"Invalid `metrics`.*one entry per output \(2 outputs"):
        model.train_on_batch(X, [LABELS, TARGET])


class _Nested(ek.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)

    def call(self, x):
        return [self.dense(x), [self.dense(x)]]


def test_nested_structures_are_not_supported():
    model = _Nested()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotImplementedError, match="nested structure"):
        model.train_on_batch(X, [TARGET, [TARGET]])
    with pytest.raises(NotImplementedError, match="nested structures of arrays"):
        model.predict([X, [X]], verbose=0)
    with pytest.raises(NotImplementedError, match="nested structures of losses"):
        model.compile(optimizer="sgd", loss=["mse", ["mse"]])


def test_sequential_takes_one_input():
    model = ek.Sequential([ek.Input((4,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="takes one input array; received x as a list of 2"):
        model.predict([X, X], verbose=0)


def test_saving_refuses_a_compile_configuration_it_cannot_store(tmp_path):
    model = ek.Sequential([ek.Input((4,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", loss_weights=0.5)
    with pytest.raises(NotImplementedError, match="loss_weights"):
        model.save(tmp_path / "m.ember")
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "m.ember")  # one loss: saved as before


class _PenalisedLoss(ek.Model):
    """Overrides compute_loss, as Keras allows: the compiled loss plus a fixed 10."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)

    def call(self, x):
        return self.dense(x)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(x, y, y_pred, sample_weight, training) + 10.0


def test_an_overridden_compute_loss_is_what_trains_and_logs():
    model = _PenalisedLoss()
    model.compile(optimizer=ek.optimizers.SGD(0.0), loss="mse")
    logs = model.evaluate(X, TARGET, verbose=0, return_dict=True)
    plain = np.mean((model.predict(X, verbose=0) - TARGET) ** 2)
    assert logs["loss"] == pytest.approx(plain + 10.0, rel=1e-5)


def test_early_stopping_watches_a_per_output_validation_loss():
    model = _compiled("dict")
    stop = ek.callbacks.EarlyStopping(monitor="val_reg_loss", patience=0)
    history = model.fit(X, {"cls": LABELS, "reg": TARGET}, epochs=50, verbose=0,
                        validation_data=(X[::-1].copy(), {"cls": LABELS, "reg": TARGET}),
                        callbacks=[stop])
    assert "val_reg_loss" in history.history and len(history.history["loss"]) < 50


def test_batch_callbacks_see_every_output_in_the_running_logs():
    seen = []

    class Record(ek.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(dict(logs))

    model = _compiled("dict", metrics={"cls": ["accuracy"]})
    model.fit(X, {"cls": LABELS, "reg": TARGET}, epochs=1, batch_size=10, verbose=0,
              callbacks=[Record()])
    assert len(seen) == 4
    assert all(list(logs) == ["cls_accuracy", "cls_loss", "loss", "reg_loss"] for logs in seen)
