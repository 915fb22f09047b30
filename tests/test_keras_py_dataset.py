"""keras.utils.PyDataset in fit / evaluate / predict: the same training as real Keras 3 on the
same batches and weights, the same results as arrays, threads keeping the batch order, the
epoch hooks, and clear errors for what Keras refuses or ember lacks."""
import threading
import warnings

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras

RNG = np.random.RandomState(0)
X = RNG.randn(50, 4).astype("float32")
Y = (X @ RNG.randn(4, 2)).astype("float32")
W0 = [RNG.randn(4, 3).astype("float32") * 0.5, np.zeros(3, "float32"),
      RNG.randn(3, 2).astype("float32") * 0.5, np.zeros(2, "float32")]


def _dataset_class(keras):
    class Batches(keras.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size
            self.seen, self.epochs_ended = [], 0
            self.threads = set()

        def __len__(self):
            return int(np.ceil(len(self.x) / self.batch_size))

        def __getitem__(self, idx):
            self.seen.append(idx)
            self.threads.add(threading.get_ident())
            part = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
            return (self.x[part],) if self.y is None else (self.x[part], self.y[part])

        def on_epoch_end(self):
            self.epochs_ended += 1
    return Batches


def _model(keras):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"),
                              keras.layers.Dense(2)])
    model.set_weights(W0)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return model


def _train(keras, **kwargs):
    model = _model(keras)
    data = _dataset_class(keras)(X, Y, 16, **kwargs)
    history = model.fit(data, epochs=3, shuffle=False, verbose=0)
    return model, data, history.history


def test_fit_on_a_py_dataset_trains_as_real_keras_does():
    keras = real_keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # real Keras' __array__ warning
        reference, _, want = _train(keras)
        want_weights = reference.get_weights()
    model, data, got = _train(ek)
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["mae"], want["mae"], rtol=1e-5)
    for a, b in zip(model.get_weights(), want_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert data.seen == [0, 1, 2, 3] * 3 and data.epochs_ended == 3


def test_a_py_dataset_gives_what_the_same_arrays_give():
    model, data, _ = _train(ek)
    arrays = _model(ek)
    arrays.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), arrays.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    Batches = _dataset_class(ek)
    assert model.evaluate(Batches(X, Y, 16), verbose=0) == pytest.approx(
        model.evaluate(X, Y, batch_size=16, verbose=0), rel=1e-6)
    np.testing.assert_allclose(model.predict(Batches(X, None, 16), verbose=0),
                               model.predict(X, verbose=0), rtol=1e-6)
    history = model.fit(Batches(X, Y, 16), validation_data=Batches(X[:20], Y[:20], 8),
                        epochs=1, verbose=0).history
    assert history["val_loss"][0] == pytest.approx(
        model.evaluate(X[:20], Y[:20], verbose=0)[0], rel=1e-6)


def test_threads_load_batches_in_order_and_shuffle_visits_each_batch_once():
    model, data, history = _train(ek, workers=3, max_queue_size=2)
    _, _, single = _train(ek)
    assert history["loss"] == pytest.approx(single["loss"], rel=1e-6)
    assert len(data.threads) > 1 and threading.get_ident() not in data.threads
    shuffled = _dataset_class(ek)(X, Y, 16)
    _model(ek).fit(shuffled, epochs=4, shuffle=True, verbose=0)
    epochs = [shuffled.seen[i:i + 4] for i in range(0, 16, 4)]
    assert all(sorted(e) == [0, 1, 2, 3] for e in epochs)
    assert any(e != [0, 1, 2, 3] for e in epochs)


def test_py_dataset_errors_read_well():
    Batches = _dataset_class(ek)
    model = _model(ek)
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(Batches(X, Y, 16), Y, verbose=0)
    with pytest.raises(ValueError, match="validation_split is only supported"):
        model.fit(Batches(X, Y, 16), validation_split=0.2, verbose=0)
    # (use_multiprocessing=True works: tests/test_keras_fit_generators.py)

    class Weighted(ek.utils.PyDataset):
        def __init__(self):  # (no super().__init__(): Keras warns and uses the defaults)
            self.size = 1

        def __len__(self):
            return 1

        def __getitem__(self, idx):
            return X, Y, np.ones(len(X))

    # (sample weights from a PyDataset train: tests/test_keras_fit_generators.py)
    with pytest.warns(UserWarning, match="should call `super\\(\\).__init__"):
        model.fit(Weighted(), verbose=0)

    class Broken(ek.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, idx):
            return "not a batch"

    with pytest.raises(ValueError, match="must return a tuple or a dict"):
        model.fit(Broken(), verbose=0)
