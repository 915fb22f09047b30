"""The new spatial layers together in one Keras model: registered for loading, saved and loaded
with their configs and weights, summary shapes, and the same outputs with 1 and 2 threads."""
import numpy as np

import ember
from ember import keras as ek
from ember.keras import layers

from keras_layer_checks import fresh_keras  # noqa: F401 (an autouse fixture)
from keras_layer_checks import rand

NEW_LAYERS = ["Conv1DTranspose", "Conv2DTranspose", "UpSampling1D", "UpSampling2D",
              "Cropping1D", "Cropping2D", "DepthwiseConv1D", "DepthwiseConv2D",
              "SeparableConv1D", "SeparableConv2D", "GroupNormalization", "UnitNormalization"]


def _model():
    return ek.Sequential([
        layers.Input((6, 6, 2)),
        layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2, activation="relu"),
        layers.GroupNormalization(2),
        layers.DepthwiseConv2D(3, strides=2, padding="same"),
        layers.UpSampling2D(2, interpolation="bilinear"),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"),
        layers.Cropping2D(((1, 1), (2, 0))),
        layers.Reshape((-1, 3)),
        layers.Cropping1D(4),
        layers.DepthwiseConv1D(3, depth_multiplier=2),
        layers.SeparableConv1D(2, 3, strides=2),
        layers.UpSampling1D(2),
        layers.Conv1DTranspose(2, 2, strides=2),
        layers.UnitNormalization(),
        layers.Flatten(), layers.Dense(3, activation="softmax")])


def test_every_new_layer_is_registered_for_loading():
    registry = ek.saving._layer_classes()
    for name in NEW_LAYERS:
        assert registry[name] is getattr(layers, name)
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D


def test_save_and_load_round_trip_after_training(tmp_path):
    x, y = rand(16, 6, 6, 2), np.random.RandomState(0).randint(0, 3, 16)
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    after = model.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))  # every weight trains
    path = tmp_path / "spatial.ember"
    model.save(path)
    loaded = ek.models.load_model(path)
    assert [type(a) for a in loaded.layers] == [type(b) for b in model.layers]
    for a, b in zip(loaded.layers, model.layers):
        assert a.get_config() == b.get_config()
    for a, b in zip(loaded.get_weights(), after):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_summary_shows_every_output_shape():
    lines = []
    _model().summary(print_fn=lines.append, line_length=120)
    text = "\n".join(lines)
    for shape in ["(None, 6, 6, 4)", "(None, 3, 3, 4)", "(None, 12, 12, 3)", "(None, 10, 10, 3)",
                  "(None, 100, 3)", "(None, 92, 3)", "(None, 90, 6)", "(None, 44, 2)",
                  "(None, 88, 2)", "(None, 176, 2)", "(None, 3)"]:
        assert shape in text, (shape, text)


def test_one_and_two_threads_give_the_same_outputs_and_gradients(restore_threads):
    model = _model()
    x = ember.from_numpy(rand(4, 6, 6, 2, seed=3)).requires_grad_()
    results = []
    for threads in (1, 2):
        ember.set_num_threads(threads)
        x.grad = None
        out = model(x)
        (out * ember.from_numpy(rand(*out.shape, seed=4))).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy().copy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
