"""fit's steps_per_epoch, validation_steps, validation_freq (int or list),
validation_batch_size and initial_epoch, and evaluate's / predict's steps and callbacks: the
same epochs, batches, test passes, log keys and "ran out of data" warnings as real Keras 3."""
import numpy as np
import pytest

from ember import keras as ek
from keras_fit_events import X, Y, batches, fit_events, model, record, recorder
from keras_reference import real_keras

FIT_CASES = {
    # 5 batches per pass: an epoch continues the previous one; the one reaching the end stops
    "steps_per_epoch below the data": dict(y=Y, batch_size=2, epochs=4, steps_per_epoch=3),
    "steps_per_epoch beyond the data": dict(y=Y, batch_size=2, epochs=2, steps_per_epoch=7),
    "validation_freq as a list": dict(y=Y, batch_size=5, epochs=4, validation_data=(X, Y),
                                      validation_freq=[1, 3]),
    "validation_freq as an int": dict(y=Y, batch_size=5, epochs=4, validation_data=(X, Y),
                                      validation_freq=2),
    "validation_steps and validation_batch_size": dict(
        y=Y, batch_size=5, epochs=2, validation_data=(X, Y), validation_steps=1,
        validation_batch_size=3),
    "validation_batch_size alone": dict(y=Y, batch_size=5, epochs=1, validation_split=0.4,
                                        validation_batch_size=3),
    "initial_epoch": dict(y=Y, batch_size=4, epochs=4, initial_epoch=2),
}


@pytest.mark.parametrize("case", FIT_CASES)
def test_fit_sees_the_batches_real_keras_sees(case):
    keras = real_keras()
    want = fit_events(keras, X, **FIT_CASES[case])
    got = fit_events(ek, X, **FIT_CASES[case])
    assert got == want


def test_steps_per_epoch_over_a_py_dataset_matches_real_keras():
    keras = real_keras()

    def dataset(k):
        class Pairs(k.utils.PyDataset):
            def __init__(self):
                super().__init__()
                self.begun = self.ended = 0

            def __len__(self):
                return 5

            def __getitem__(self, i):
                return X[2 * i:2 * i + 2], Y[2 * i:2 * i + 2]

            def on_epoch_begin(self):
                self.begun += 1

            def on_epoch_end(self):
                self.ended += 1
        return Pairs()

    want_data, got_data = dataset(keras), dataset(ek)
    want = fit_events(keras, want_data, epochs=3, steps_per_epoch=3, shuffle=False)
    got = fit_events(ek, got_data, epochs=3, steps_per_epoch=3, shuffle=False)
    assert got == want
    # Once per epoch (real Keras 3.15 calls both hooks once more, around a first pass it
    # makes to learn the data's structure).
    assert (got_data.begun, got_data.ended) == (3, 3)
    assert (want_data.begun, want_data.ended) == (4, 4)


def test_steps_per_epoch_trains_the_same_weights_as_real_keras():
    keras = real_keras()
    nets = []
    for k in (keras, ek):
        net = model(k)
        record(net.fit, X, Y, batch_size=2, epochs=3, steps_per_epoch=4, shuffle=False,
               verbose=0)
        nets.append(record(net.get_weights)[0])
    for want, got in zip(*nets):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_evaluate_and_predict_take_steps_and_callbacks_as_real_keras():
    keras = real_keras()
    results = []
    for k in (keras, ek):
        net = model(k)
        rec = recorder(k)
        loss, _ = record(net.evaluate, X, Y, batch_size=2, steps=2, verbose=0, callbacks=[rec])
        full, _ = record(net.evaluate, X, Y, batch_size=2, verbose=0)
        weighted, _ = record(net.evaluate, X, Y, batch_size=4, verbose=0,
                             sample_weight=np.arange(10, dtype=np.float32))
        predicted, _ = record(net.predict, X, batch_size=3, steps=2, verbose=0,
                              callbacks=[rec])
        results.append((loss, full, weighted, predicted, rec.events))
    want, got = results
    np.testing.assert_allclose(got[:3], want[:3], rtol=1e-5)
    np.testing.assert_allclose(got[3], want[3], rtol=1e-5)
    assert got[3].shape == (6, 1)
    assert got[4] == want[4]


def test_fit_calls_the_test_hooks_during_validation():
    rec = recorder(ek)
    model(ek).fit(X, Y, batch_size=5, epochs=1, validation_data=(X, Y), verbose=0,
                  callbacks=[rec])
    assert rec.events == [("epoch", 0), 0, 1, "test", ("test batch", 0), ("test batch", 1),
                          ("test end", ["loss"])]


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps_per_epoch=0), "steps_per_epoch must be a positive integer"),
    (dict(steps_per_epoch=1.5), "steps_per_epoch must be a positive integer"),
    (dict(validation_steps=-1), "validation_steps must be a positive integer"),
    (dict(validation_freq=0), "Expected `validation_freq` to be a list or a positive int"),
    (dict(validation_freq=(1, 2)), "Expected `validation_freq` to be a list"),
])
def test_bad_step_options_read_well(kwargs, message):
    with pytest.raises(ValueError, match=message):
        model(ek).fit(X, Y, verbose=0, **kwargs)


def test_evaluate_steps_must_be_positive():
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        model(ek).evaluate(X, Y, steps=0, verbose=0)
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        model(ek).predict(X, steps=-2, verbose=0)


def test_generator_validation_with_validation_steps_continues_across_epochs():
    keras = real_keras()
    want = fit_events(keras, X, y=Y, batch_size=5, epochs=3,
                      validation_data=batches(100), validation_steps=2)
    got = fit_events(ek, X, y=Y, batch_size=5, epochs=3,
                     validation_data=batches(100), validation_steps=2)
    assert got == want


def test_validation_data_with_sample_weights_is_weighted_as_in_keras():
    keras = real_keras()
    weights = np.linspace(0.0, 3.0, len(X)).astype(np.float32)
    runs = {}
    for k in (keras, ek):
        history, _ = record(model(k).fit, X, Y, batch_size=5, epochs=2, verbose=0,
                            shuffle=False, validation_data=(X, Y, weights))
        runs[k] = history.history["val_loss"]
    np.testing.assert_allclose(runs[ek], runs[keras], rtol=1e-5)
    unweighted = model(ek).fit(X, Y, batch_size=5, epochs=2, verbose=0, shuffle=False,
                               validation_data=(X, Y)).history["val_loss"]
    assert not np.allclose(unweighted, runs[ek], rtol=1e-3)
