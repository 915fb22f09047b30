"""keras.callbacks.BackupAndRestore: a run interrupted by an exception, or killed by a signal,
resumes at the right epoch with the same weights and optimizer state, so it ends where an
uninterrupted run ends."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras

RNG = np.random.default_rng(0)
X = RNG.random((32, 4), dtype=np.float32)
Y = X @ RNG.random((4, 1), dtype=np.float32)


def _model(keras):
    net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"),
                            keras.layers.Dense(1)])
    rng = np.random.default_rng(1)
    net.set_weights([rng.standard_normal(w.shape).astype(np.float32)
                     for w in net.get_weights()])
    # Adam's moments make the optimizer state matter to the result
    net.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    return net


def _interrupt_at(keras, epoch):
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None):
            if e == epoch:
                raise RuntimeError("Interrupting!")
    return Interrupt()


def _fit(net, callbacks, epochs=6):
    return net.fit(X, Y, batch_size=8, epochs=epochs, shuffle=False, verbose=0,
                   callbacks=callbacks)


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path):
    reference = _model(ek)
    full = _fit(reference, [])
    net = _model(ek)
    backup = ek.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    with pytest.raises(RuntimeError, match="Interrupting"):
        _fit(net, [backup, _interrupt_at(ek, 4)])
    assert os.listdir(tmp_path / "backup") == ["latest.ember"]
    resumed_model = _model(ek)  # a fresh process would start from new weights
    resumed = _fit(resumed_model, [backup])
    assert resumed.epoch == [4, 5]
    np.testing.assert_allclose(resumed.history["loss"], full.history["loss"][4:], rtol=1e-5)
    for got, want in zip(resumed_model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert resumed_model.optimizer.iterations == reference.optimizer.iterations
    assert not (tmp_path / "backup").exists()  # deleted at the end (delete_checkpoint=True)


def test_without_the_optimizer_state_the_resumed_run_would_differ(tmp_path):
    # (shows the test above can fail: a resumed run with fresh Adam moments ends elsewhere)
    reference = _model(ek)
    _fit(reference, [])
    net = _model(ek)
    backup = ek.callbacks.BackupAndRestore(str(tmp_path / "b"))
    with pytest.raises(RuntimeError):
        _fit(net, [backup, _interrupt_at(ek, 4)])
    fresh = _model(ek)
    fresh.set_weights(net.get_weights())
    _fit(fresh, [], epochs=2)
    assert not np.allclose(fresh.get_weights()[0], reference.get_weights()[0], rtol=1e-5)


def test_the_resumed_epochs_match_real_keras(tmp_path):
    keras = real_keras()
    import warnings
    epochs = {}
    for k in (keras, ek):
        backup = k.callbacks.BackupAndRestore(str(tmp_path / k.__name__))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            with pytest.raises(RuntimeError):
                _fit(_model(k), [backup, _interrupt_at(k, 3)])
            epochs[k] = _fit(_model(k), [backup]).epoch
    assert epochs[ek] == epochs[keras] == [3, 4, 5]


def test_save_freq_in_batches_and_keeping_the_checkpoint(tmp_path):
    folder = tmp_path / "backup"
    backup = ek.callbacks.BackupAndRestore(str(folder), save_freq=3, delete_checkpoint=False,
                                           double_checkpoint=True)
    with pytest.raises(RuntimeError):
        _fit(_model(ek), [backup, _interrupt_at(ek, 2)])  # 4 batches an epoch: saves at 3, 6
    assert sorted(os.listdir(folder)) == ["latest.ember", "latest.ember.bkp"]
    # As Keras: the backup records the epoch it was made in, which a resumed run redoes.
    assert _fit(_model(ek), [backup], epochs=3).epoch == [1, 2]
    assert folder.exists()


def test_a_damaged_backup_falls_back_to_the_previous_one(tmp_path):
    folder = tmp_path / "backup"
    backup = ek.callbacks.BackupAndRestore(str(folder), double_checkpoint=True)
    with pytest.raises(RuntimeError):
        _fit(_model(ek), [backup, _interrupt_at(ek, 3)])
    (folder / "latest.ember").write_bytes(b"not a backup")
    assert _fit(_model(ek), [backup]).epoch == [2, 3, 4, 5]  # the epoch-2 backup

    single = ek.callbacks.BackupAndRestore(str(tmp_path / "single"))
    with pytest.raises(RuntimeError):
        _fit(_model(ek), [single, _interrupt_at(ek, 1)])
    (tmp_path / "single" / "latest.ember").write_bytes(b"not a backup")
    with pytest.raises(ValueError):
        _fit(_model(ek), [single])


def test_bad_arguments_read_well(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir`"):
        ek.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        ek.callbacks.BackupAndRestore(str(tmp_path), save_freq="batch")
    with pytest.raises(NotImplementedError, match="save_freq=False"):
        ek.callbacks.BackupAndRestore(str(tmp_path), save_freq=False)
    unbuilt = ek.Sequential([ek.layers.Dense(1)])
    unbuilt.compile("sgd", "mse")
    with pytest.raises(ValueError, match="must be built before you call `fit\\(\\)`"):
        unbuilt.fit(X, Y, verbose=0, callbacks=[ek.callbacks.BackupAndRestore(str(tmp_path))])


_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from ember import keras as ek
    import test_keras_callbacks_backup as t

    class Kill(ek.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == {kill_at}:
                os.kill(os.getpid(), signal.SIGKILL)

    net = t._model(ek)
    history = t._fit(net, [ek.callbacks.BackupAndRestore({folder!r}), Kill()])
    np.save({out!r}, np.concatenate([w.ravel() for w in net.get_weights()]))
    print(history.epoch)
""")


def test_a_process_killed_by_a_signal_resumes_in_a_new_process(tmp_path):
    reference = _model(ek)
    _fit(reference, [])
    folder, out = str(tmp_path / "backup"), str(tmp_path / "weights.npy")
    tests = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), tests) if p))

    def run(kill_at):
        script = _SCRIPT.format(tests=tests, kill_at=kill_at, folder=folder, out=out)
        return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                              text=True, timeout=300)

    killed = run(kill_at=3)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert os.listdir(folder) == ["latest.ember"]
    resumed = run(kill_at=-1)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.split() == ["[3,", "4,", "5]"]
    want = np.concatenate([w.ravel() for w in reference.get_weights()])
    np.testing.assert_allclose(np.load(out), want, rtol=1e-5, atol=1e-6)
