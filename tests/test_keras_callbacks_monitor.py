"""keras.callbacks.ModelCheckpoint and ReduceLROnPlateau: driven by the same logs as real
Keras 3's, they save on the same epochs and set the same learning rates; inside fit they save
a model that loads back, and log the learning rate."""
import warnings

import numpy as np
import pytest

from ember import keras as ek
from ember.keras import layers
from keras_reference import real_keras

# val_loss per epoch: improves, stalls for three epochs, improves a little, stalls again.
VAL_LOSSES = [1.0, 0.8, 0.81, 0.8, 0.9, 0.7999, 0.79, 0.85, 0.86, 0.87, 0.88]


def _compiled(keras, lr=0.1):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse",
                  metrics=["accuracy"])
    return model


def _drive(callback, model, losses, key="val_loss"):
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(losses):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": 1.0, key: value})


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():  # real Keras' torch backend reads variables via __array__
        warnings.simplefilter("ignore", DeprecationWarning)
        return function(*args, **kwargs)


def _learning_rates(keras, losses, **kwargs):
    model = _compiled(keras)
    reduce = keras.callbacks.ReduceLROnPlateau(**kwargs)
    reduce.set_model(model)
    reduce.on_train_begin()
    rates = []
    for epoch, value in enumerate(losses):
        reduce.on_epoch_end(epoch, {"val_loss": value})
        rates.append(float(model.optimizer.learning_rate))
    return rates


@pytest.mark.parametrize("kwargs", [
    dict(factor=0.5, patience=2),
    dict(factor=0.5, patience=1, cooldown=2, min_lr=0.03),
    dict(factor=0.1, patience=1, min_delta=0.05),
    dict(factor=0.5, patience=2, mode="max"),
])
def test_reduce_lr_on_plateau_sets_the_learning_rates_real_keras_sets(kwargs):
    keras = real_keras()
    want = _quietly(_learning_rates, keras, VAL_LOSSES, **kwargs)
    got = _learning_rates(ek, VAL_LOSSES, **kwargs)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert min(got) < 0.1  # the schedule did reduce


def _saved_epochs(keras, tmp_path, suffix, losses, key="val_loss", **kwargs):
    folder = tmp_path / keras.__name__.replace(".", "_")
    folder.mkdir()
    model = _compiled(keras)
    model.evaluate(np.zeros((2, 2), "float32"), np.zeros((2, 1), "float32"), verbose=0)
    _drive(keras.callbacks.ModelCheckpoint(str(folder / ("m{epoch:02d}" + suffix)), **kwargs),
           model, losses, key)
    return sorted(int(p.name[1:3]) for p in folder.iterdir())


@pytest.mark.parametrize("kwargs", [
    dict(save_best_only=True),
    dict(save_best_only=True, monitor="val_accuracy"),
    dict(save_best_only=True, mode="max"),
    dict(save_best_only=True, initial_value_threshold=0.85),
    dict(save_best_only=False),
])
def test_model_checkpoint_saves_on_the_epochs_real_keras_saves_on(tmp_path, kwargs):
    keras = real_keras()
    key = kwargs.get("monitor", "val_loss")
    want = _quietly(_saved_epochs, keras, tmp_path, ".keras", VAL_LOSSES, key, **kwargs)
    got = _saved_epochs(ek, tmp_path, ".ember", VAL_LOSSES, key, **kwargs)
    assert got == want and 0 < len(got)


def test_model_checkpoint_in_fit_keeps_the_best_model_and_its_weights(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.randn(64, 3).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32")
    model = ek.Sequential([ek.Input((3,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile(optimizer=ek.optimizers.Adam(0.05), loss="mse")
    best = tmp_path / "best.ember"
    weights = tmp_path / "w{epoch}.weights.ember"
    history = model.fit(x, y, epochs=6, validation_split=0.25, verbose=0, callbacks=[
        ek.callbacks.ModelCheckpoint(str(best), save_best_only=True),
        ek.callbacks.ModelCheckpoint(str(weights), save_weights_only=True, save_freq=3)])
    val = history.history["val_loss"]
    restored = ek.models.load_model(str(best))
    x_val = x[48:]
    assert restored.evaluate(x_val, y[48:], verbose=0) == pytest.approx(min(val), rel=1e-5)
    # save_freq=3 batches: 48 training samples are 2 batches of 32 per epoch -> every 1.5 epochs
    assert sorted(p.name for p in tmp_path.glob("w*")) == [
        "w2.weights.ember", "w3.weights.ember", "w5.weights.ember", "w6.weights.ember"]


def test_reduce_lr_on_plateau_in_fit_logs_the_learning_rate():
    x = np.random.RandomState(1).randn(32, 2).astype("float32")
    model = _compiled(ek, lr=0.4)
    history = model.fit(x, x[:, :1], epochs=5, verbose=0, callbacks=[
        ek.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
                                       min_delta=1e9)])  # never an improvement: halve each time
    assert history.history["learning_rate"] == pytest.approx([0.4, 0.4, 0.2, 0.1, 0.05])
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_bad_arguments_are_refused_clearly(tmp_path):
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        ek.callbacks.ReduceLROnPlateau(factor=1.0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ek.callbacks.ReduceLROnPlateau(epsilon=1e-3)
    with pytest.warns(UserWarning, match="mode 'up' is unknown, fallback to auto mode"):
        assert ek.callbacks.ReduceLROnPlateau(mode="up").mode == "auto"
    undecided = ek.callbacks.ReduceLROnPlateau(monitor="val_smoothness")
    with pytest.raises(ValueError, match="monitor=val_smoothness.*Pass `mode='max'`"):
        _drive(undecided, _compiled(ek), [1.0, 2.0], key="val_smoothness")
    with pytest.raises(ValueError, match="must end in `.ember`"):
        ek.callbacks.ModelCheckpoint(str(tmp_path / "m.npz"))  # (.keras: test_keras_files_*)
    with pytest.raises(ValueError, match="must end in `.weights.ember`"):
        ek.callbacks.ModelCheckpoint(str(tmp_path / "m.ember"), save_weights_only=True)
    with pytest.raises(ValueError, match="Unrecognized save_freq: batch"):
        ek.callbacks.ModelCheckpoint(str(tmp_path / "m.ember"), save_freq="batch")
