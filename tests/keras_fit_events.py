"""Runs fit / evaluate / predict on ember's Keras face or real Keras 3 and records what a
callback sees (epochs begun, batch indices, test passes and their log keys) and the warnings
raised, so the tests can compare the two event by event."""
import warnings

import numpy as np

RAN_OUT = "Your input ran out of data"
SHUFFLE_IGNORED = "`shuffle=True` was passed, but will be ignored"[:len(RAN_OUT)]

X = np.random.default_rng(0).random((10, 3), dtype=np.float32)
Y = np.random.default_rng(1).random((10, 1), dtype=np.float32)


def recorder(keras):
    class Recorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_epoch_begin(self, epoch, logs=None):
            self.events.append(("epoch", epoch))

        def on_train_batch_begin(self, batch, logs=None):
            self.events.append(batch)

        def on_test_begin(self, logs=None):
            self.events.append("test")

        def on_test_batch_begin(self, batch, logs=None):
            self.events.append(("test batch", batch))

        def on_test_end(self, logs=None):
            self.events.append(("test end", sorted(logs)))

        def on_predict_batch_end(self, batch, logs=None):
            self.events.append(("predict batch", batch, logs["outputs"].shape))

    return Recorder()


def model(keras, seed=3):
    """A small Dense model with the same starting weights in ember and Keras."""
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    rng = np.random.default_rng(seed)
    net.set_weights([rng.standard_normal((3, 1)).astype(np.float32),
                     np.zeros(1, np.float32)])
    net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return net


def batches(n, size=2):
    """A generator of n (x, y) batches of the arrays above."""
    for i in range(n):
        start = (i * size) % len(X)
        yield X[start:start + size], Y[start:start + size]


def record(method, *args, **kwargs):
    """(result, the start of each warning's message): real Keras' torch backend also warns
    about __array__ (a DeprecationWarning), which is left out."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = method(*args, **kwargs)
    return result, [str(w.message)[:len(RAN_OUT)] for w in caught
                    if not issubclass(w.category, DeprecationWarning)]


def fit_events(keras, x, **kwargs):
    """(callback events, history lengths by key, warnings) of one fit."""
    rec = recorder(keras)
    history, ran_out = record(model(keras).fit, x, verbose=0, callbacks=[rec], **kwargs)
    return rec.events, {k: len(v) for k, v in history.history.items()}, ran_out
