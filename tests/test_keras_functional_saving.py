"""Functional models: summary() with Keras' "Connected to" column, get_config/from_config in
Keras 3's functional structure, save/load in ember's format (same predictions, training
resumes), and keras.models.clone_model for Sequential and functional models."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers
from keras_functional_common import fresh_session, rand as _rand  # noqa: F401
from keras_reference import real_keras


def _multi_task(L, keras, mask_zero=True):
    """One shared trunk used twice, two heads, a nested model and integer inputs."""
    ids = keras.Input((None,), dtype="int32", name="ids")
    extra = keras.Input((3,), name="extra")
    sequence = L.LSTM(6, name="lstm")(L.Embedding(20, 4, mask_zero=mask_zero, name="emb")(ids))
    trunk = L.Dense(5, activation="relu", name="trunk")
    side_input = keras.Input((3,), name="side_in")
    side = keras.Model(side_input, L.Dense(2, name="side_dense")(side_input), name="side")
    features = L.concatenate([trunk(sequence), trunk(L.Dense(6, name="lift")(extra)),
                              side(extra)], name="features")
    score = L.Dense(1, activation="sigmoid", name="score")(features)
    kind = L.Dense(3, activation="softmax", name="kind")(features)
    return keras.Model(inputs=[ids, extra], outputs=[score, kind], name="multi_task")


def _data():
    ids = np.random.RandomState(3).randint(1, 20, (5, 7))
    ids[1, 4:] = 0
    return [ids, _rand(5, 3, seed=4)]


def _predict(model, data):
    return [o.detach().numpy() for o in model(data)]


# ---- summary ------------------------------------------------------------------------------------
def test_summary_shows_connections():
    model = _multi_task(layers, ek)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "multi_task"' in text and "Connected to" in text
    assert "ids (InputLayer)" in text and "(None, None)" in text
    row = next(line for line in lines if line.startswith("trunk (Dense)"))
    assert "(None, 5)" in row and "35" in row and row.endswith("lstm[0][0]")
    assert lines[lines.index(row) + 1].strip() == "lift[0][0]"
    row = next(line for line in lines if line.startswith("features (Concatenate)"))
    assert row.endswith("trunk[0][0]")
    following = [line.strip() for line in lines[lines.index(row) + 1:lines.index(row) + 3]]
    assert following == ["trunk[1][0]", "side[0][0]"]
    assert f"Total params: {model.count_params():,}" in text
    keras = real_keras()  # the same parameter count as real Keras
    assert model.count_params() == _multi_task(keras.layers, keras).count_params()
    with pytest.raises(NotImplementedError, match="expand_nested"):
        model.summary(expand_nested=True)


def test_sequential_with_variable_length_input_builds_at_once():
    model = ek.Sequential([ek.Input((None,)), layers.Embedding(30, 4), layers.GRU(3),
                           layers.Dense(1)])
    assert model.built and model.output_shape == (None, 1)
    lines = []
    model.summary(print_fn=lines.append)
    assert any(line.startswith("embedding (Embedding)") and "(None, None, 4)" in line
               for line in lines)
    assert tuple(model.predict(np.ones((2, 9)), verbose=0).shape) == (2, 1)


# ---- config -------------------------------------------------------------------------------------
def test_config_has_keras_functional_structure():
    model = _multi_task(layers, ek)
    config = model.get_config()
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["ids", 0, 0], ["extra", 0, 0]]
    assert config["output_layers"] == [["score", 0, 0], ["kind", 0, 0]]
    by_name = {entry["name"]: entry for entry in config["layers"]}
    trunk_nodes = by_name["trunk"]["inbound_nodes"]
    assert len(trunk_nodes) == 2 and trunk_nodes[1]["kwargs"] == {}
    tensor = trunk_nodes[1]["args"][0]
    assert tensor == {"class_name": "__keras_tensor__",
                      "config": {"shape": [None, 6], "dtype": "float32",
                                 "keras_history": ["lift", 0, 0]}}
    assert by_name["side"]["class_name"] == "Functional"
    features = by_name["features"]["inbound_nodes"][0]["args"][0]
    assert [t["config"]["keras_history"] for t in features] == [["trunk", 0, 0],
                                                               ["trunk", 1, 0], ["side", 0, 0]]
    assert by_name["ids"]["config"]["dtype"] == "int32"
    keras = real_keras()  # real Keras writes the same skeleton for the same model
    config = _multi_task(layers, ek, mask_zero=False).get_config()  # (Keras' mask is an op)
    by_name = {entry["name"]: entry for entry in config["layers"]}
    reference = _multi_task(keras.layers, keras, mask_zero=False).get_config()
    assert reference["input_layers"] == config["input_layers"]
    assert reference["output_layers"] == config["output_layers"]
    assert [e["name"] for e in reference["layers"]] == [e["name"] for e in config["layers"]]
    for ref in reference["layers"]:
        ours = by_name[ref["name"]]["inbound_nodes"]
        assert [[t["config"]["keras_history"] for t in _tensors(node["args"])]
                for node in ref["inbound_nodes"]] == \
            [[t["config"]["keras_history"] for t in _tensors(node["args"])] for node in ours]


def test_nested_model_as_output_is_numbered_as_keras_does():
    def build(L, keras):
        inner_input = keras.Input((3,), name="inner_in")
        inner = keras.Model(inner_input, L.Dense(2, name="inner_dense")(inner_input),
                            name="inner")
        outer_input = keras.Input((3,), name="outer_in")
        return keras.Model(outer_input, inner(outer_input), name="outer")

    config = build(layers, ek).get_config()
    keras = real_keras()
    assert config["output_layers"] == build(keras.layers, keras).get_config()["output_layers"]
    assert config["output_layers"] == ["inner", 1, 0]
    rebuilt = ek.Model.from_config(config)
    assert rebuilt.output_shape == (None, 2) and rebuilt.get_config() == config


def _tensors(structure):
    if isinstance(structure, dict) and structure.get("class_name") == "__keras_tensor__":
        return [structure]
    if isinstance(structure, (list, tuple)):
        return [t for item in structure for t in _tensors(item)]
    return []


def test_from_config_rebuilds_the_graph():
    model = _multi_task(layers, ek)
    clone = ek.Model.from_config(model.get_config())
    assert type(clone) is type(model)
    assert clone.get_config() == model.get_config()
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    for a, b in zip(_predict(clone, _data()), _predict(model, _data())):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    broken = model.get_config()
    broken["layers"] = [e for e in broken["layers"] if e["name"] != "lift"]
    with pytest.raises(ValueError, match="unknown layer 'lift'"):
        ek.Model.from_config(broken)


# ---- save / load --------------------------------------------------------------------------------
def test_save_and_load_give_the_same_predictions_and_resume_training(tmp_path):
    model = _multi_task(layers, ek)
    inputs = ek.Input((4,), name="x")
    hidden = layers.Dense(8, activation="relu", name="h")(inputs)
    single = ek.Model(inputs, layers.Dense(1, name="y")(layers.add([hidden, hidden])))
    single.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _rand(32, 4), _rand(32, 1, seed=1)
    single.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "single.ember"
    single.save(path)
    loaded = ek.models.load_model(path)
    assert type(loaded).__name__ == "Functional" and loaded.compiled
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), single.predict(x, verbose=0))
    single.fit(x, y, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), single.predict(x, verbose=0),
                               rtol=1e-6)
    path = tmp_path / "multi.ember"
    model.save(path)
    restored = ek.models.load_model(path)
    for a, b in zip(_predict(restored, _data()), _predict(model, _data())):
        np.testing.assert_array_equal(a, b)
    weights = tmp_path / "multi.weights.ember"
    model.save_weights(weights)
    fresh = _multi_task(layers, ek)
    assert not np.allclose(_predict(fresh, _data())[1], _predict(model, _data())[1])
    fresh.load_weights(weights)
    for a, b in zip(_predict(fresh, _data()), _predict(model, _data())):
        np.testing.assert_array_equal(a, b)


def test_nested_sequential_keeps_variable_length_after_loading(tmp_path):
    inner = ek.Sequential([layers.Embedding(10, 4), layers.LSTM(3)])
    ids = ek.Input((None,), dtype="int32")
    model = ek.Model(ids, layers.Dense(1)(inner(ids)))
    assert inner._build_input_shape == (None, None)  # the symbolic shape, not a probe's
    model.save(tmp_path / "v.ember")
    loaded = ek.models.load_model(tmp_path / "v.ember")
    for steps in (3, 9):
        data = np.random.RandomState(steps).randint(1, 10, (2, steps))
        np.testing.assert_array_equal(loaded(data).detach().numpy(),
                                      model(data).detach().numpy())


def test_saving_an_intermediate_input_model_is_refused(tmp_path):
    inputs = ek.Input((3,))
    hidden = layers.Dense(4)(inputs)
    tail = ek.Model(hidden, layers.Dense(2)(hidden))
    with pytest.raises(NotImplementedError, match="intermediate tensor"):
        tail.save(tmp_path / "tail.ember")


# ---- clone_model --------------------------------------------------------------------------------
def test_clone_model_functional_keeps_the_graph_with_new_weights():
    model = _multi_task(layers, ek)
    clone = ek.models.clone_model(model)
    assert type(clone) is type(model) and clone.name == model.name
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert clone.get_config() == model.get_config()
    assert len(clone.get_layer("trunk")._inbound_nodes) == 2  # still shared
    assert not np.allclose(_predict(clone, _data())[1], _predict(model, _data())[1])
    clone.set_weights(model.get_weights())
    for a, b in zip(_predict(clone, _data()), _predict(model, _data())):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    named = ek.models.clone_model(
        model, clone_function=lambda layer: type(layer).from_config(
            {**layer.get_config(), "name": "new_" + layer.name}))
    assert "new_trunk" in [layer.name for layer in named.layers]
    deep = ek.models.clone_model(model, recursive=True)
    assert deep.get_layer("side") is not model.get_layer("side")
    inputs = [ek.Input((None,), dtype="int32"), ek.Input((3,))]
    replaced = ek.models.clone_model(model, input_tensors=inputs)
    assert replaced.inputs == inputs


def test_clone_model_sequential_and_errors():
    model = ek.Sequential([ek.Input((4,)), layers.Dense(3, name="a"), layers.Dense(2, name="b")],
                          name="seq")
    clone = ek.models.clone_model(model)
    assert type(clone) is ek.Sequential and clone.name == "seq"
    assert [layer.name for layer in clone.layers] == ["a", "b"]
    assert clone.input_shape == (None, 4) and clone.built
    clone.set_weights(model.get_weights())
    x = _rand(2, 4)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0))

    class Sub(ek.Model):
        def call(self, inputs):
            return inputs

    with pytest.raises(NotImplementedError, match="subclassed Model"):
        ek.models.clone_model(Sub())
    with pytest.raises(ValueError, match="call_function"):  # as Keras: functional models only
        ek.models.clone_model(model, call_function=lambda *a: None)
    with pytest.raises(ValueError, match="must be callable"):
        ek.models.clone_model(model, clone_function=3)
    with pytest.raises(ValueError, match="input_tensors"):
        ek.models.clone_model(model, input_tensors=[np.zeros((1, 4))])


class _Scaled(layers.Layer):
    """A custom layer known to no registry: only custom_objects can name it."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_from_config_takes_custom_objects_as_keras_does():
    inputs = ek.Input((3,))
    model = ek.Model(inputs, _Scaled(3.0)(layers.Dense(2)(inputs)))
    with pytest.raises((ValueError, TypeError), match="_Scaled"):
        ek.Model.from_config(model.get_config())
    clone = ek.Model.from_config(model.get_config(), custom_objects={"_Scaled": _Scaled})
    assert clone.layers[-1].factor == 3.0
    clone.set_weights(model.get_weights())
    x = _rand(4, 3)
    np.testing.assert_allclose(clone.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    sequential = ek.Sequential([ek.Input((3,)), _Scaled(0.5)])
    copy = ek.Sequential.from_config(sequential.get_config(), custom_objects={"_Scaled": _Scaled})
    assert copy.layers[-1].factor == 0.5
