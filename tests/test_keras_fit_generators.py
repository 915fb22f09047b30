"""fit / evaluate / predict on Python generators, PyDatasets with sample weights and ember
DataLoaders: the batches real Keras 3 sees, the weights it trains, its errors."""
import os

import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.utils.data import DataLoader, Dataset, TensorDataset
from keras_fit_events import RAN_OUT, SHUFFLE_IGNORED, X, Y, batches, fit_events, model, record
from keras_reference import real_keras

W = np.linspace(0.5, 2.0, len(X)).astype(np.float32)


def _weighted_batches(n, size=2):
    for i in range(n):
        start = (i * size) % len(X)
        yield X[start:start + size], Y[start:start + size], W[start:start + size]


def _trained_weights(keras, data, **kwargs):
    net = model(keras)
    record(net.fit, data, verbose=0, **kwargs)
    return record(net.get_weights)[0]


def _assert_same_weights(got, want):
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_generator_with_steps_per_epoch_continues_across_epochs_as_in_keras():
    keras = real_keras()
    want = fit_events(keras, batches(100), epochs=3, steps_per_epoch=4)
    got = fit_events(ek, batches(100), epochs=3, steps_per_epoch=4)
    assert got == want
    assert got[0] == [("epoch", 0), 0, 1, 2, 3, ("epoch", 1), 0, 1, 2, 3, ("epoch", 2), 0, 1, 2,
                      3]


def test_a_generator_trains_the_weights_real_keras_trains():
    keras = real_keras()
    _assert_same_weights(_trained_weights(ek, batches(9), epochs=1),
                         _trained_weights(keras, batches(9), epochs=1))
    _assert_same_weights(_trained_weights(ek, batches(100), epochs=2, steps_per_epoch=3),
                         _trained_weights(keras, batches(100), epochs=2, steps_per_epoch=3))


def test_sample_weights_from_a_generator_train_as_in_keras():
    keras = real_keras()
    got = _trained_weights(ek, _weighted_batches(5), epochs=1)
    _assert_same_weights(got, _trained_weights(keras, _weighted_batches(5), epochs=1))
    # ...and differently from unweighted batches (the weights are not ignored)
    unweighted = _trained_weights(ek, batches(5), epochs=1)
    assert not np.allclose(got[0], unweighted[0])


def test_sample_weights_from_a_py_dataset_train_as_in_keras():
    keras = real_keras()

    def dataset(k):
        class Weighted(k.utils.PyDataset):
            def __init__(self):
                super().__init__()

            def __len__(self):
                return 3

            def __getitem__(self, i):
                part = slice(3 * i, 3 * i + 3)
                return X[part], Y[part], W[part]
        return Weighted()

    _assert_same_weights(_trained_weights(ek, dataset(ek), epochs=2, shuffle=False),
                         _trained_weights(keras, dataset(keras), epochs=2, shuffle=False))


def test_class_weight_with_a_py_dataset_trains_as_in_keras():
    keras = real_keras()
    labels = (Y[:, 0] > np.median(Y)).astype(np.int64)

    def dataset(k):
        class Labelled(k.utils.PyDataset):
            def __init__(self):
                super().__init__()

            def __len__(self):
                return 2

            def __getitem__(self, i):
                return X[5 * i:5 * i + 5], labels[5 * i:5 * i + 5]
        return Labelled()

    weights = {}
    for k in (keras, ek):
        net = k.Sequential([k.Input((3,)), k.layers.Dense(2, activation="softmax")])
        net.set_weights([np.full((3, 2), 0.1, np.float32) * [[1, -1]], np.zeros(2, np.float32)])
        net.compile(optimizer=k.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
        record(net.fit, dataset(k), epochs=2, shuffle=False, verbose=0,
               class_weight={0: 0.2, 1: 3.0})
        weights[k] = record(net.get_weights)[0]
    _assert_same_weights(weights[ek], weights[keras])


def test_a_finite_generator_runs_out_with_keras_warning_and_ember_stops():
    keras = real_keras()
    want = fit_events(keras, batches(7), epochs=3)
    got = fit_events(ek, batches(7), epochs=3)
    # The first epoch takes all 7 batches and warns, as in Keras.
    assert got[0] == want[0][:8] == [("epoch", 0), 0, 1, 2, 3, 4, 5, 6]
    # Real Keras 3.15 then replays the two batches it peeked at, epoch after epoch; ember has
    # nothing left and ends training (see epoch_iterator.py).
    assert want[0][8:] == [("epoch", 1), 0, 1, ("epoch", 2), 0, 1]
    assert got[1] == {"loss": 1} and got[2] == [SHUFFLE_IGNORED, RAN_OUT, RAN_OUT]
    assert want[2] == [SHUFFLE_IGNORED, RAN_OUT, RAN_OUT, RAN_OUT]


def test_generators_as_validation_data_evaluate_and_predict():
    keras = real_keras()
    want = fit_events(keras, batches(100), epochs=2, steps_per_epoch=2,
                      validation_data=batches(100), validation_steps=3)
    got = fit_events(ek, batches(100), epochs=2, steps_per_epoch=2,
                     validation_data=batches(100), validation_steps=3)
    assert got == want
    results = []
    for k in (keras, ek):
        net = model(k)
        loss, _ = record(net.evaluate, batches(5), verbose=0)
        weighted, _ = record(net.evaluate, _weighted_batches(5), verbose=0)
        some, _ = record(net.predict, batches(5), steps=3, verbose=0)
        every, ran_out = record(net.predict, ((b[0],) for b in batches(4)), verbose=0)
        results.append((loss, weighted, some, every, ran_out))
    (loss, weighted, some, every, ran_out), want = results[1], results[0]
    np.testing.assert_allclose([loss, weighted], want[:2], rtol=1e-5)
    np.testing.assert_allclose(some, want[2], rtol=1e-5)
    np.testing.assert_allclose(every, want[3], rtol=1e-5)
    assert some.shape == (6, 1) and every.shape == (8, 1) and ran_out == want[4] == [RAN_OUT]


def test_generator_errors_read_well():
    net = model(ek)
    with pytest.raises(ValueError, match="as a generator, `y` should not be passed"):
        net.fit(batches(2), Y, verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported"):
        net.fit(batches(2), validation_split=0.5, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="as a generator, `sample_weights` should not be"):
        net.fit(batches(2), sample_weight=W, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="`class_weight` is not supported for generator"):
        net.fit(batches(2), class_weight={0: 1.0}, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match="must return a tuple or a dict"):
        net.fit(iter(["not a batch"]), verbose=0, shuffle=False)
    spent = batches(1)
    with pytest.warns(UserWarning, match=RAN_OUT):
        net.evaluate(spent, verbose=0)
    with pytest.warns(UserWarning, match=RAN_OUT), \
            pytest.raises(ValueError, match="no data left"):
        net.evaluate(spent, verbose=0)


class _ArrayPairs(Dataset):
    """A map-style dataset of NumPy (x, y) pairs."""

    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return X[i], Y[i]


@pytest.mark.parametrize("dataset", [
    TensorDataset(ember.from_numpy(X), ember.from_numpy(Y)), _ArrayPairs()],
    ids=["tensors", "arrays"])
def test_a_data_loader_trains_as_the_same_arrays_do(dataset):
    loader = DataLoader(dataset, batch_size=4)
    events = fit_events(ek, loader, epochs=2)
    assert events == ([("epoch", 0), 0, 1, 2, ("epoch", 1), 0, 1, 2], {"loss": 2},
                      [SHUFFLE_IGNORED])
    got = _trained_weights(ek, loader, epochs=2)
    want = _trained_weights(ek, X, y=Y, batch_size=4, epochs=2, shuffle=False)
    _assert_same_weights(got, want)
    net = model(ek)
    np.testing.assert_allclose(net.evaluate(loader, verbose=0),
                               net.evaluate(X, Y, batch_size=4, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(net.predict(DataLoader(ember.from_numpy(X), batch_size=4),
                                           verbose=0), net.predict(X, verbose=0), rtol=1e-6)
    history = model(ek).fit(X, Y, epochs=1, verbose=0, validation_data=loader)
    assert len(history.history["val_loss"]) == 1


def test_a_data_loader_with_steps_per_epoch_continues_across_epochs():
    loader = DataLoader(TensorDataset(ember.from_numpy(X), ember.from_numpy(Y)), batch_size=2)
    events, _, warned = fit_events(ek, loader, epochs=3, steps_per_epoch=3, shuffle=False)
    assert events == [("epoch", 0), 0, 1, 2, ("epoch", 1), 0, 1, ("epoch", 2), 0, 1, 2]
    assert warned == [RAN_OUT]


def test_an_infinite_py_dataset_needs_steps_per_epoch_as_in_keras():
    keras = real_keras()

    def dataset(k, workers=1):
        class Endless(k.utils.PyDataset):
            def __init__(self):
                super().__init__(workers=workers)

            @property
            def num_batches(self):
                return None

            def __getitem__(self, i):
                start = (2 * i) % len(X)
                return X[start:start + 2], Y[start:start + 2]
        return Endless()

    want = fit_events(keras, dataset(keras), epochs=2, steps_per_epoch=7)
    got = fit_events(ek, dataset(ek), epochs=2, steps_per_epoch=7)
    assert got == want
    assert got[2] == [SHUFFLE_IGNORED]
    once = _trained_weights(ek, dataset(ek), epochs=2, steps_per_epoch=7, shuffle=False)
    _assert_same_weights(once, _trained_weights(keras, dataset(keras), epochs=2,
                                                steps_per_epoch=7, shuffle=False))
    # two threads load ahead, in order: the same batches train
    _assert_same_weights(_trained_weights(ek, dataset(ek, workers=2), epochs=2,
                                          steps_per_epoch=7, shuffle=False), once)


def _pid_dataset(k, folder, count=5, **kwargs):
    class Logged(k.utils.PyDataset):
        """Writes the id of the process that loads each batch."""

        def __init__(self):
            super().__init__(**kwargs)

        @property
        def num_batches(self):
            return count

        def __getitem__(self, i):
            (folder / f"{i}-{os.getpid()}").touch()
            start = (2 * i) % len(X)
            return X[start:start + 2], Y[start:start + 2], W[start:start + 2]
    return Logged()


@pytest.mark.parametrize("count, steps", [(5, None), (None, 7)], ids=["finite", "endless"])
def test_use_multiprocessing_loads_in_worker_processes_in_order(tmp_path, count, steps):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()
    want = _trained_weights(ek, _pid_dataset(ek, here, count), epochs=2, shuffle=False,
                            steps_per_epoch=steps)
    got = _trained_weights(ek, _pid_dataset(ek, there, count, workers=2,
                                            use_multiprocessing=True),
                           epochs=2, shuffle=False, steps_per_epoch=steps)
    _assert_same_weights(got, want)
    pids = {int(p.name.split("-")[1]) for p in there.iterdir()}
    assert os.getpid() not in pids and len(pids) >= 1
    assert {int(p.name.split("-")[1]) for p in here.iterdir()} == {os.getpid()}


def test_callbacks_run_before_a_py_datasets_batches_are_loaded_as_in_keras():
    # (curriculum learning: a callback's on_epoch_begin may change what the dataset serves)
    keras = real_keras()
    logs = {}
    for k in (keras, ek):
        log = logs[k] = []

        class Logged(k.utils.PyDataset):
            def __init__(self):
                super().__init__()

            def __len__(self):
                return 2

            def __getitem__(self, i):
                log.append(("get", i))
                return X[5 * i:5 * i + 5], Y[5 * i:5 * i + 5]

            def on_epoch_begin(self):
                log.append("dataset epoch begin")

            def on_epoch_end(self):
                log.append("dataset epoch end")

        callback = k.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: log.append(("callback", epoch)))
        record(model(k).fit, Logged(), epochs=2, shuffle=False, verbose=0,
               callbacks=[callback])
    start = logs[keras].index(("callback", 0))  # (Keras first peeks at a batch)
    assert logs[ek] == logs[keras][start:]
    assert logs[ek][:3] == [("callback", 0), "dataset epoch begin", ("get", 0)]


def test_evaluate_and_predict_on_a_generator_count_its_batches_in_the_log_line(capsys):
    net = model(ek)
    with pytest.warns(UserWarning, match=RAN_OUT):  # (as Keras warns at a generator's end)
        net.evaluate(batches(3), verbose=2)
        net.predict(((b[0],) for b in batches(4)), verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["3/3", "4/4"]
