"""The misc layers together in whole models: keras-io's sequence-to-sequence model
(LSTM -> RepeatVector -> LSTM -> TimeDistributed(Dense softmax)) against real Keras and in
training (on reversing short sequences); a model of every new layer through summary, save and
load."""
import numpy as np

from ember import keras as ek
from ember.keras import layers as el
from keras_layer_checks import fresh_keras, rand as _rand  # noqa: F401
from keras_reference import real_keras, to_numpy


def _reversal_data(n, rng):
    """One-hot sequences of 4 symbols (of 6) -> the same symbols in reverse order."""
    ids = rng.randint(0, 6, size=(n, 4))
    eye = np.eye(6, dtype=np.float32)
    return eye[ids], eye[ids[:, ::-1]]


def _seq2seq(m):
    # keras-io's "sequence to sequence learning for performing number addition", small.
    return [m.Input((4, 6)), m.LSTM(16), m.RepeatVector(4), m.LSTM(16, return_sequences=True),
            m.TimeDistributed(m.Dense(6, activation="softmax"))]


def test_seq2seq_with_repeat_vector_and_time_distributed_matches_keras_and_learns():
    keras = real_keras()
    x, y = _reversal_data(256, np.random.RandomState(0))
    model = ek.Sequential(_seq2seq(el))
    reference = keras.Sequential(_seq2seq(keras.layers))
    reference.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x[:16], verbose=0), to_numpy(reference(x[:16])),
                               rtol=1e-5, atol=1e-6)
    model.compile(loss="categorical_crossentropy", optimizer=ek.optimizers.Adam(0.02),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.7 * history.history["loss"][0]  # chance: ln 6
    assert history.history["accuracy"][-1] > 0.4  # chance is 1/6


def test_every_new_layer_in_one_model_summary_save_and_load(tmp_path):
    model = ek.Sequential([
        el.Input((6, 4)), el.Masking(mask_value=-9.0), el.GaussianNoise(0.1, seed=1),
        el.TimeDistributed(el.Dense(5)), el.PReLU(shared_axes=[1]), el.LeakyReLU(),
        el.ELU(0.5), el.ReLU(max_value=6.0), el.GaussianDropout(0.1), el.AlphaDropout(0.1),
        el.Identity(), el.LSTM(3), el.RepeatVector(2), el.Permute((2, 1)), el.Flatten(),
        el.Lambda(lambda t: t * 2.0), el.Dense(3), el.Softmax()])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for name in ("masking", "time_distributed", "p_re_lu", "repeat_vector", "permute",
                 "lambda", "softmax"):
        assert name in text
    assert "(None, 3, 2)" in text  # Permute's output
    x = _rand(10, 6, 4, seed=1)
    x[:3, 4:] = -9.0
    y = np.eye(3, dtype=np.float32)[np.arange(10) % 3]
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "all.ember"
    model.save(path)
    loaded = ek.models.load_model(path, safe_mode=False)
    assert [type(layer).__name__ for layer in loaded.layers] == \
        [type(layer).__name__ for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[3].get_weights()[0].shape == (1, 5)  # PReLU alpha, shared over time
