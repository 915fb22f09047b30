"""Legacy ``.h5`` full-model files as Keras 2 / tf.keras wrote them (``batch_input_shape``,
``weight_names`` such as ``dense/kernel:0``) load into ember, and broken or hostile ones are a
ValueError naming the file. (Files of Keras 3's own legacy writer, both ways:
test_keras_files_interop.py.)"""
import json

import numpy as np
import pytest

from ember import keras as ek

h5py = pytest.importorskip("h5py")


def _dense(name, units, activation):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}}


def _keras2_file(path, edit=None):
    """A tf.keras 2.13 ``model.save("m.h5")`` of a two-Dense Sequential; its weights."""
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "dense_input"}},
        _dense("dense", 3, "relu"), _dense("dense_1", 2, "linear")]}}
    training = {"loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
        "name": "mae", "dtype": "float32", "fn": "mean_absolute_error"}}]],
        "optimizer_config": {"class_name": "Custom>Adam", "config": {
            "name": "Adam", "learning_rate": 0.001, "is_legacy_optimizer": False}}}
    rng = np.random.RandomState(0)
    weights = {"dense": [rng.rand(4, 3), rng.rand(3)], "dense_1": [rng.rand(3, 2), rng.rand(2)]}
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"], f.attrs["backend"] = "2.13.1", "tensorflow"
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["training_config"] = json.dumps(training)
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [b"dense", b"dense_1"]
        for name, arrays in weights.items():
            layer = group.create_group(name)
            names = [f"{name}/kernel:0", f"{name}/bias:0"]
            layer.attrs["weight_names"] = [n.encode() for n in names]
            for n, arr in zip(names, arrays):
                layer.create_dataset(n, data=arr.astype(np.float32))
        if edit is not None:
            edit(f)
    return weights


def _reference(weights, x):
    (k1, b1), (k2, b2) = weights["dense"], weights["dense_1"]
    return np.maximum(x @ k1 + b1, 0) @ k2 + b2


def test_a_keras2_file_loads_and_predicts(tmp_path):
    weights = _keras2_file(tmp_path / "m.h5")
    x = np.random.RandomState(1).rand(5, 4).astype(np.float32)
    with pytest.warns(UserWarning, match="loaded uncompiled.*Custom>Adam"):
        model = ek.models.load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0), _reference(weights, x), rtol=1e-5)
    assert not model.compiled

    same = ek.models.load_model(tmp_path / "m.h5", compile=False)
    fresh = ek.Sequential([ek.Input((4,)), ek.layers.Dense(3, activation="relu"),
                           ek.layers.Dense(2)])
    fresh.load_weights(tmp_path / "m.h5")
    for model in (same, fresh):
        np.testing.assert_allclose(model.predict(x, verbose=0), _reference(weights, x),
                                   rtol=1e-5)


def _set_attr(key, value):
    def edit(f):
        f.attrs[key] = value
    return edit


def _delete(path):
    def edit(f):
        del f[path]
    return edit


def _huge(f):
    del f["model_weights/dense/dense/kernel:0"]
    f.create_dataset("model_weights/dense/dense/kernel:0", shape=(100000, 100000),
                     dtype="f4", chunks=(1, 1000))


@pytest.mark.parametrize("edit, message", [
    (_delete("model_weights"), "no model_weights"),
    (lambda f: f.attrs.__delitem__("model_config"), "no model config"),
    (_set_attr("model_config", "{broken"), "not valid JSON"),
    (_set_attr("model_config", json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Evil", "config": {}}]}})), "Unknown layer class: 'Evil'"),
    (_delete("model_weights/dense/dense/bias:0"), "missing weight"),
    (_huge, r"shape mismatch.*\(4, 3\).*\(100000, 100000\)"),
    (lambda f: f["model_weights"].attrs.__setitem__("layer_names", [b"dense"]),
     "layer count mismatch"),
], ids=["no-weights", "no-config", "bad-json", "unknown-class", "missing", "huge", "count"])
def test_broken_legacy_files_are_value_errors(edit, message, tmp_path):
    _keras2_file(tmp_path / "bad.h5", edit)
    with pytest.raises(ValueError, match=message):
        ek.models.load_model(tmp_path / "bad.h5", compile=False)


def test_a_file_that_is_not_hdf5_is_a_value_error(tmp_path):
    (tmp_path / "bad.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x01" * 3000)
    with pytest.raises(ValueError, match="bad.h5"):
        ek.models.load_model(tmp_path / "bad.h5")
    model = ek.Sequential([ek.Input((4,)), ek.layers.Dense(2)])
    with pytest.raises(ValueError, match="bad.h5"):
        model.load_weights(tmp_path / "bad.h5")
