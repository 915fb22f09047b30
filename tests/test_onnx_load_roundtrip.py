"""ember.onnx.export (and Keras model.export) then ember.onnx.load: the module read back
computes what the exported one did, and onnxruntime agrees."""
import numpy as np
import pytest

from onnx_load_helpers import recurrent_classifier, run_ort

import ember
import ember.onnx
from ember import nn


def export(model, x, path):
    ember.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})


def mlp():
    return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4), nn.LogSoftmax(dim=1))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(), nn.Linear(4 * 7 * 7, 5),
                         nn.Softmax(dim=1))


@pytest.mark.parametrize("make, shape", [(mlp, (20,)), (cnn, (1, 14, 14))], ids=["mlp", "cnn"])
def test_exported_then_loaded_model_computes_the_same(make, shape, tmp_path):
    ember.manual_seed(0)
    model = make().eval()
    path = tmp_path / "m.onnx"
    export(model, ember.randn(2, *shape), path)
    loaded = ember.onnx.load(path)
    for batch in (1, 3):
        x = np.random.default_rng(batch).standard_normal((batch, *shape)).astype(np.float32)
        with ember.no_grad():
            expected = model(ember.from_numpy(x)).numpy()
            got = loaded(ember.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got, run_ort(str(path), {"x": x})[0], rtol=1e-5,
                                   atol=1e-5)


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU], ids=["lstm", "gru"])
def test_recurrent_classifier_round_trip(cell, tmp_path):
    ember.manual_seed(0)
    model = recurrent_classifier(nn, cell, 50, 16, 3).eval()
    path = tmp_path / "m.onnx"
    export(model, ember.randint(0, 50, (2, 5)), path)
    loaded = ember.onnx.load(path)
    for batch in (1, 3):
        tokens = np.random.default_rng(batch).integers(0, 50, (batch, 5))
        with ember.no_grad():
            expected = model(ember.from_numpy(tokens)).numpy()
            got = loaded(ember.from_numpy(tokens)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_keras_model_export_round_trip(tmp_path):
    from ember import keras as ek

    model = ek.Sequential([ek.Input((8, 8, 1)), ek.layers.Conv2D(4, 3, activation="relu"),
                           ek.layers.MaxPooling2D(), ek.layers.Flatten(),
                           ek.layers.Dense(5, activation="softmax")])
    path = tmp_path / "k.onnx"
    model.export(str(path), format="onnx")
    x = np.random.default_rng(0).standard_normal((3, 8, 8, 1)).astype(np.float32)
    got = ember.onnx.load(path)(ember.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
