"""keras.callbacks LearningRateScheduler, CSVLogger, TerminateOnNaN, LambdaCallback,
ProgbarLogger and ModelCheckpoint's filepath templates, in fit, against real Keras 3."""
import csv

import numpy as np
import pytest

from ember import keras as ek
from keras_fit_events import X, Y, model, record
from keras_reference import real_keras


def _fit(keras, callbacks, **kwargs):
    net = model(keras)
    history, _ = record(net.fit, X, Y, batch_size=4, shuffle=False, verbose=0,
                        callbacks=callbacks, **kwargs)
    return net, history


@pytest.mark.parametrize("schedule", [
    lambda epoch, lr: lr * 0.5 if epoch else 0.2,  # Keras 3's (epoch, lr)
    lambda epoch: 0.1 / (epoch + 1),  # the older (epoch) signature
], ids=["epoch-lr", "epoch"])
def test_learning_rate_scheduler_sets_and_logs_the_rates_real_keras_does(schedule):
    keras = real_keras()
    runs = []
    for k in (keras, ek):
        net, history = _fit(k, [k.callbacks.LearningRateScheduler(schedule)], epochs=3)
        runs.append((history.history, float(net.optimizer.learning_rate),
                     record(net.get_weights)[0]))
    (want, want_lr, want_w), (got, got_lr, got_w) = runs
    assert sorted(got) == sorted(want) == ["learning_rate", "loss"]
    np.testing.assert_allclose(got["learning_rate"], want["learning_rate"], rtol=1e-6)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    assert got_lr == pytest.approx(want_lr, rel=1e-6)
    for a, b in zip(got_w, want_w):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_learning_rate_scheduler_needs_a_float(capsys):
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        _fit(ek, [ek.callbacks.LearningRateScheduler(lambda epoch, lr: 1)])
    _fit(ek, [ek.callbacks.LearningRateScheduler(lambda e, lr: 0.05, verbose=1)])
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.05." in \
        capsys.readouterr().out


def _csv_rows(path, separator=","):
    with open(path, newline="") as f:
        return list(csv.reader(f, delimiter=separator))


def test_csv_logger_writes_the_file_real_keras_writes(tmp_path):
    keras = real_keras()
    rows = {}
    for k in (keras, ek):
        path = tmp_path / f"{k.__name__}.csv"
        _fit(k, [k.callbacks.CSVLogger(str(path), separator=";")], epochs=3,
             validation_split=0.2)
        rows[k] = _csv_rows(path, ";")
    want, got = rows[keras], rows[ek]
    assert got[0] == want[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in got] == [r[0] for r in want]
    np.testing.assert_allclose(np.array([r[1:] for r in got[1:]], float),
                               np.array([r[1:] for r in want[1:]], float), rtol=1e-5)


def test_csv_logger_reserves_val_columns_and_appends(tmp_path):
    keras = real_keras()
    for k in (keras, ek):
        path = tmp_path / f"{k.__name__}.csv"
        _fit(k, [k.callbacks.CSVLogger(str(path))], epochs=2)
        _fit(k, [k.callbacks.CSVLogger(str(path), append=True)], epochs=1)
        rows = _csv_rows(path)
        # no validation: "val_" columns reserved and filled with NA, as Keras does
        assert rows[0] == ["epoch", "loss", "val_loss"]
        assert [r[0] for r in rows] == ["epoch", "0", "1", "0"]  # appended, no second header
        assert {r[2] for r in rows[1:]} == {"NA"}


def _nan_after(keras, batches):
    """A model whose loss turns NaN at batch ``batches`` (its targets are NaN from there)."""
    y = Y.copy()
    y[4 * batches:] = np.nan
    seen = []
    net = model(keras)
    logger = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(batch))
    history, _ = record(net.fit, X, y, batch_size=4, shuffle=False, epochs=3, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN(), logger])
    return seen, {key: len(values) for key, values in history.history.items()}


def test_terminate_on_nan_stops_at_the_batch_real_keras_stops_at(capsys):
    keras = real_keras()
    want = _nan_after(keras, 1)
    capsys.readouterr()
    got = _nan_after(ek, 1)
    assert got == want == ([0, 1], {"loss": 1})
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    y = Y.copy()
    y[5] = np.inf
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 1"):
        model(ek).fit(X, y, batch_size=4, verbose=0, shuffle=False,
                      callbacks=[ek.callbacks.TerminateOnNaN(raise_error=True)])


def test_lambda_callback_calls_each_hook_with_keras_arguments():
    calls = []
    callback = ek.callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train begin", logs)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch begin", epoch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append(("train end", sorted(logs))),
        on_test_begin=lambda logs: calls.append(("test begin",)))  # a hook given by keyword
    model(ek).fit(X, Y, batch_size=5, epochs=1, validation_data=(X, Y), verbose=0,
                  callbacks=[callback])
    assert calls == [("train begin", None), ("epoch begin", 0), ("batch", 0, ["loss"]),
                     ("batch", 1, ["loss"]), ("test begin",),
                     ("epoch end", 0, ["loss", "val_loss"]),
                     ("train end", ["loss", "val_loss"])]
    with pytest.raises(TypeError, match="unexpected keyword arguments \\['on_epoch'\\]"):
        ek.callbacks.LambdaCallback(on_epoch=print)


def test_progbar_logger_takes_fits_verbose_and_is_not_doubled(capsys):
    _fit(ek, [ek.callbacks.ProgbarLogger()], epochs=2)  # verbose=0
    assert capsys.readouterr().out == ""
    net = model(ek)
    net.fit(X, Y, epochs=2, verbose=2, callbacks=[ek.callbacks.ProgbarLogger()])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]


def test_progbar_logger_shows_what_other_callbacks_log(capsys):
    # fit puts its ProgbarLogger last, as Keras: the learning rate logged by the scheduler
    # is on the line.
    net = model(ek)
    net.fit(X, Y, epochs=1, verbose=2,
            callbacks=[ek.callbacks.LearningRateScheduler(lambda epoch, lr: 0.05)])
    assert "learning_rate: 0.0500" in capsys.readouterr().out


@pytest.mark.parametrize("template, kwargs", [
    ("ckpt-{epoch:02d}-{val_loss:.2f}", {}),
    ("e{epoch}-b{batch}-{loss:.3f}", dict(save_freq=1)),
    ("e{epoch:03d}", dict(save_freq=3)),
])
def test_model_checkpoint_fills_filepath_templates_as_real_keras(tmp_path, template, kwargs):
    keras = real_keras()
    want = sorted(p.name.removesuffix(".weights.h5") for p in _saved(
        keras, tmp_path / "keras", template + ".weights.h5", **kwargs))
    got = sorted(p.name.removesuffix(".weights.ember") for p in _saved(
        ek, tmp_path / "ember", template + ".weights.ember", **kwargs))
    assert got == want and len(got) >= 2


def _saved(keras, folder, template, **kwargs):
    folder.mkdir()
    _fit(keras, [keras.callbacks.ModelCheckpoint(str(folder / template), save_weights_only=True,
                                                 **kwargs)], epochs=3, validation_split=0.2)
    return list(folder.iterdir())
