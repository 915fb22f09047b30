"""The Keras functional API: keras.Input, layer calls on KerasTensors, keras.Model(inputs,
outputs) with shared layers, several inputs/outputs, nested models and the feature-extraction
idiom; models from the Keras functional API guide compared with real Keras 3 on the same
weights; float64 gradients through a graph; errors."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers
from ember.testing import gradcheck
from keras_functional_common import fresh_session, rand as _rand  # noqa: F401
from keras_reference import real_keras, to_numpy


def _copy_weights(keras_model, ember_model):
    """Real Keras' weights into the ember model, layer by layer (same names)."""
    for layer in keras_model.layers:
        if layer.weights:  # (not get_weights(): with NumPy 2 it warns through torch's __array__)
            ember_model.get_layer(layer.name).set_weights([to_numpy(w.value)
                                                           for w in layer.weights])


def _as_list(outputs):
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def _assert_same_outputs(keras_model, ember_model, inputs):
    expected = [to_numpy(o) for o in _as_list(keras_model(inputs))]
    got = [o.detach().numpy() for o in _as_list(ember_model(inputs))]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


# ---- keras.Input and layer calls ----------------------------------------------------------------
def test_input_is_a_symbolic_tensor():
    x = ek.Input(shape=(32,), name="features")
    assert x.shape == (None, 32) and x.dtype == "float32" and x.name == "features"
    assert x.ndim == 2 and not x.sparse
    assert ek.Input((4, 5), batch_size=8).shape == (8, 4, 5)
    assert ek.Input(shape=(None,), dtype="int32").dtype == "int32"
    assert ek.Input(batch_shape=(None, 3)).shape == (None, 3)
    assert "KerasTensor shape=(None, 32), dtype=float32" in repr(x)
    layer = x._keras_history[0]
    assert isinstance(layer, layers.InputLayer) and layer.output is x
    with pytest.raises(NotImplementedError, match="sparse"):
        ek.Input((3,), sparse=True)
    with pytest.raises(NotImplementedError, match="ragged"):
        ek.Input((3,), ragged=True)
    with pytest.raises(NotImplementedError, match="tensor="):
        ek.Input((3,), tensor=ember.zeros(1, 3))
    with pytest.raises(ValueError, match="Invalid dtype"):
        ek.Input((3,), dtype="float33")
    with pytest.raises(NotImplementedError, match="Python operators"):
        x + x
    keras = real_keras()
    expected = keras.Input(shape=(32,), name="features")._keras_history[0].get_config()
    assert layer.get_config() == {**expected, "batch_shape": tuple(expected["batch_shape"])}


# (layer factory, input shape without batch, input dtype)
SHAPE_CASES = [
    (lambda L: L.Dense(7), (5,), "float32"),
    (lambda L: L.Dense(7), (None, 5), "float32"),
    (lambda L: L.Conv2D(4, 3, strides=2), (None, None, 3), "float32"),
    (lambda L: L.Conv2D(4, 3, padding="same"), (16, 12, 3), "float32"),
    (lambda L: L.MaxPooling2D(), (None, 9, 3), "float32"),
    (lambda L: L.MaxPooling1D(64), (None, 3), "float32"),
    (lambda L: L.Conv1D(2, 5, strides=32, padding="same"), (None, 3), "float32"),
    (lambda L: L.Flatten(), (4, 5, 2), "float32"),
    (lambda L: L.Flatten(), (None, 5), "float32"),
    (lambda L: L.Embedding(20, 6), (None,), "int32"),
    (lambda L: L.LSTM(6), (None, 4), "float32"),
    (lambda L: L.GRU(6, return_sequences=True), (None, 4), "float32"),
    (lambda L: L.LSTM(6, return_state=True), (7, 4), "float32"),
    (lambda L: L.GlobalAveragePooling1D(), (None, 4), "float32"),
    (lambda L: L.Reshape((2, -1)), (6,), "float32"),
    (lambda L: L.Bidirectional(L.LSTM(3, return_sequences=True)), (None, 2), "float32"),
]


@pytest.mark.parametrize("make,shape,dtype", SHAPE_CASES)
def test_symbolic_output_shapes_match_real_keras(make, shape, dtype):
    out = make(layers)(ek.Input(shape, dtype=dtype))
    keras = real_keras()
    expected = make(keras.layers)(keras.Input(shape, dtype=dtype))
    got = [(t.shape, t.dtype) for t in _as_list(out)]
    assert got == [(tuple(t.shape), t.dtype) for t in _as_list(expected)]


def test_layers_are_built_at_once_and_integer_inputs_keep_their_dtype():
    ids = ek.Input((10,), dtype="int32")
    embedding = layers.Embedding(100, 8)
    x = embedding(ids)
    assert embedding.built and x.shape == (None, 10, 8)
    dense = layers.Dense(3)
    dense(x)
    assert dense.built and dense.count_params() == 27
    model = ek.Model(ids, dense.output)
    data = np.array([[1, 99, 3, 4, 5, 6, 7, 8, 9, 0]], dtype=np.int32)
    expected = dense(embedding(data)).detach().numpy()
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-6)


# ---- models from the Keras functional API guide ------------------------------------------------
def _mnist_mlp(L, keras):
    inputs = keras.Input(shape=(784,), name="img")
    x = L.Dense(64, activation="relu", name="d1")(inputs)
    x = L.Dense(64, activation="relu", name="d2")(x)
    outputs = L.Dense(10, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def _ticket_model(L, keras):
    """Several inputs and outputs (the guide's ticket classifier)."""
    title = keras.Input(shape=(None,), name="title", dtype="int32")
    body = keras.Input(shape=(None,), name="body", dtype="int32")
    tags = keras.Input(shape=(12,), name="tags")
    title_features = L.Embedding(100, 8, name="title_emb")(title)
    body_features = L.Embedding(100, 8, name="body_emb")(body)
    title_features = L.LSTM(16, name="title_lstm")(title_features)
    body_features = L.LSTM(8, name="body_lstm")(body_features)
    x = L.concatenate([title_features, body_features, tags], name="concat")
    priority = L.Dense(1, name="priority")(x)
    department = L.Dense(4, name="department")(x)
    return keras.Model(inputs=[title, body, tags], outputs=[priority, department])


def _toy_resnet(L, keras):
    inputs = keras.Input(shape=(16, 16, 3), name="img")
    x = L.Conv2D(8, 3, activation="relu", name="c1")(inputs)
    x = L.Conv2D(8, 3, activation="relu", name="c2")(x)
    block_1_output = L.MaxPooling2D(3, name="pool")(x)
    x = L.Conv2D(8, 3, activation="relu", padding="same", name="c3")(block_1_output)
    x = L.Conv2D(8, 3, activation="relu", padding="same", name="c4")(x)
    block_2_output = L.add([x, block_1_output], name="add_1")
    x = L.Conv2D(8, 3, activation="relu", padding="same", name="c5")(block_2_output)
    x = L.Conv2D(8, 3, activation="relu", padding="same", name="c6")(x)
    block_3_output = L.add([x, block_2_output], name="add_2")
    x = L.GlobalAveragePooling2D(name="gap")(block_3_output)
    x = L.Dense(16, activation="relu", name="fc")(x)
    x = L.Dropout(0.5, name="drop")(x)
    outputs = L.Dense(10, name="logits")(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def _shared_siamese(L, keras):
    """One Dense and one LSTM shared by two inputs, merged with Subtract and Dot."""
    a = keras.Input((5, 3), name="a")
    b = keras.Input((5, 3), name="b")
    encoder = L.LSTM(4, return_sequences=True, name="shared_lstm")
    project = L.Dense(4, activation="tanh", name="shared_dense")
    ea, eb = project(encoder(a)), project(encoder(b))
    diff = L.Subtract(name="diff")([ea, eb])
    sim = L.Dot(axes=2, normalize=True, name="sim")([ea, eb])
    pooled = L.Flatten(name="flat")(L.Concatenate(name="cat")([diff, sim]))
    return keras.Model([a, b], L.Dense(1, activation="sigmoid", name="out")(pooled))


GUIDE_MODELS = {
    "mnist_mlp": (_mnist_mlp, lambda: [_rand(3, 784)]),
    "ticket": (_ticket_model, lambda: [np.random.RandomState(1).randint(1, 100, (3, 9)),
                                       np.random.RandomState(2).randint(1, 100, (3, 6)),
                                       _rand(3, 12)]),
    "toy_resnet": (_toy_resnet, lambda: [_rand(2, 16, 16, 3)]),
    "siamese": (_shared_siamese, lambda: [_rand(2, 5, 3, seed=1), _rand(2, 5, 3, seed=2)]),
}


@pytest.mark.parametrize("name", sorted(GUIDE_MODELS))
def test_guide_models_match_real_keras_on_the_same_weights(name):
    build, data = GUIDE_MODELS[name]
    model = build(layers, ek)
    keras = real_keras()
    reference = build(keras.layers, keras)
    assert [layer.name for layer in model.layers] == [layer.name for layer in reference.layers]
    assert model.output_names == reference.output_names
    assert model.count_params() == reference.count_params()
    assert [t.shape for t in model.outputs] == [tuple(t.shape) for t in reference.outputs]
    _copy_weights(reference, model)
    inputs = data()
    _assert_same_outputs(reference, model, inputs if len(inputs) > 1 else inputs[0])
    if len(model.outputs) == 1 and len(model.inputs) == 1:
        np.testing.assert_allclose(model.predict(inputs[0], verbose=0),
                                   to_numpy(reference(inputs[0])),
                                   rtol=1e-5, atol=1e-5)


def test_toy_resnet_trains_with_fit():
    model = _toy_resnet(layers, ek)
    rng = np.random.RandomState(0)
    x = rng.rand(64, 16, 16, 3).astype(np.float32)
    y = (x[:, :8].mean(axis=(1, 2, 3)) > x[:, 8:].mean(axis=(1, 2, 3))).astype(np.int64)
    model.compile(optimizer=ek.optimizers.Adam(1e-2),
                  loss=ek.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=6, verbose=0, validation_split=0.25)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    assert model.predict(x[:5], verbose=0).shape == (5, 10)


def test_dict_inputs_and_outputs_follow_keras_order():
    a, b = ek.Input((4,), name="b_in"), ek.Input((2,), name="a_in")
    merged = layers.Concatenate(name="merged")([a, b])
    outputs = {"z_head": layers.Dense(1, name="z_head")(merged),
               "y_head": layers.Dense(3, name="y_head")(merged)}
    model = ek.Model(inputs={"b_in": a, "a_in": b}, outputs=outputs)
    assert [t.name for t in model.inputs] == ["a_in", "b_in"]  # dicts flatten by sorted key
    assert model.output_names == ["y_head", "z_head"]
    keras = real_keras()
    ka, kb = keras.Input((4,), name="b_in"), keras.Input((2,), name="a_in")
    kmerged = keras.layers.Concatenate(name="merged")([ka, kb])
    reference = keras.Model({"b_in": ka, "a_in": kb},
                            {"z_head": keras.layers.Dense(1, name="z_head")(kmerged),
                             "y_head": keras.layers.Dense(3, name="y_head")(kmerged)})
    assert reference.output_names == model.output_names
    assert [layer.name for layer in model.layers] == [layer.name for layer in reference.layers]
    _copy_weights(reference, model)
    data = {"b_in": _rand(3, 4), "a_in": _rand(3, 2, seed=1)}
    out, expected = model(data), reference(data)
    assert sorted(out) == ["y_head", "z_head"]
    for key in out:
        np.testing.assert_allclose(out[key].detach().numpy(), to_numpy(expected[key]),
                                   rtol=1e-5, atol=1e-5)
    # A list in the model's input order works too.
    np.testing.assert_allclose(model([data["a_in"], data["b_in"]])["y_head"].detach().numpy(),
                               out["y_head"].detach().numpy())


# ---- model attributes ---------------------------------------------------------------------------
def test_model_attributes():
    model = _ticket_model(layers, ek)
    assert isinstance(model, ek.Model) and isinstance(model, ek.models.Model)
    assert [t.name for t in model.inputs] == ["title", "body", "tags"]
    assert model.input_names == ["title", "body", "tags"]
    assert model.output_names == ["priority", "department"]
    assert model.input_shape == [(None, None), (None, None), (None, 12)]
    assert model.output_shape == [(None, 1), (None, 4)]
    assert model.input is not model.inputs and model.input[2] is model.inputs[2]
    assert model.get_layer("concat").output_shape == (None, 36)
    assert model.get_layer(index=0).name == "title"
    assert model.get_layer("title_lstm").input_shape == (None, None, 8)
    assert [t.shape for t in model.get_layer("concat").input] == [(None, 16), (None, 8),
                                                                 (None, 12)]
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    single = _mnist_mlp(layers, ek)
    assert single.input_shape == (None, 784) and single.output_shape == (None, 10)
    assert single.input is single.inputs[0] and single.output is single.outputs[0]
    assert single.name == "mnist_model"
    assert len(single.weights) == 6 and len(list(single.parameters())) == 6
    with pytest.raises(ValueError, match="never been called"):
        _ = layers.Dense(2).output


def test_keyword_form_and_tuple_outputs():
    inputs = ek.Input((3,))
    h = layers.Dense(2)(inputs)
    model = ek.models.Model(inputs=inputs, outputs=(h, layers.Dense(1)(h)), name="pair")
    out = model(_rand(4, 3))
    assert isinstance(out, list) and [tuple(o.shape) for o in out] == [(4, 2), (4, 1)]
    one = ek.Model(inputs, [h])  # a list of one output gives one tensor, as in Keras
    assert tuple(one(_rand(4, 3)).shape) == (4, 2)


# ---- shared layers, nested models, feature extraction -------------------------------------------
def test_shared_layer_has_one_set_of_weights_and_a_node_per_call():
    dense = layers.Dense(3, name="shared")
    a, b = ek.Input((4,)), ek.Input((4,))
    ya, yb = dense(a), dense(b)
    model = ek.Model([a, b], [ya, yb])
    assert len(model.weights) == 2 and len(dense._inbound_nodes) == 2
    assert dense.output is ya  # node 0, as Keras 3
    x = _rand(2, 4)
    out_a, out_b = model([x, x])
    np.testing.assert_array_equal(out_a.detach().numpy(), out_b.detach().numpy())


def test_nested_models_on_symbolic_and_real_tensors():
    # The guide's autoencoder: encoder and decoder models used as layers.
    encoder_input = ek.Input(shape=(8,), name="original")
    encoded = layers.Dense(3, activation="relu", name="code")(encoder_input)
    encoder = ek.Model(encoder_input, encoded, name="encoder")
    decoder_input = ek.Input(shape=(3,), name="encoded")
    decoder = ek.Model(decoder_input, layers.Dense(8, name="rebuilt")(decoder_input),
                       name="decoder")
    autoencoder_input = ek.Input(shape=(8,), name="img")
    autoencoder = ek.Model(autoencoder_input, decoder(encoder(autoencoder_input)),
                           name="autoencoder")
    assert [layer.name for layer in autoencoder.layers] == ["img", "encoder", "decoder"]
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params()
    x = _rand(5, 8)
    expected = decoder(encoder(x)).detach().numpy()  # nested models called on real tensors
    np.testing.assert_allclose(autoencoder(x).detach().numpy(), expected, rtol=1e-6)
    # A functional model starting a Sequential gives it its input (the transfer-learning idiom).
    stacked = ek.Sequential([encoder, layers.Dense(1, name="on_top")])
    assert stacked.built and stacked.input_shape == (None, 8)
    assert stacked.output_shape == (None, 1) and stacked.get_layer("on_top").built
    # A Sequential used as a layer of a functional model, and an ensemble of models.
    head = ek.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)], name="head")
    inputs = ek.Input((8,))
    both = ek.Model(inputs, layers.average([head(inputs), head(inputs)]))
    np.testing.assert_allclose(both(x).detach().numpy(), head(x).detach().numpy(), rtol=1e-6)
    assert len(both.weights) == 4
    model = ek.Model(inputs, [encoder(inputs), head(inputs)])
    assert [layer.name for layer in model.layers] == [inputs.name, "encoder", "head"]


def test_feature_extraction_idiom_on_sequential_and_functional():
    seq = ek.Sequential([ek.Input((6,)), layers.Dense(5, activation="relu", name="a"),
                         layers.Dense(4, activation="relu", name="c"), layers.Dense(2, name="z")])
    assert seq.input.shape == (None, 6) and seq.output.shape == (None, 2)
    assert seq.output_shape == (None, 2) and seq.get_layer("c").output.shape == (None, 4)
    x = _rand(3, 6)
    hidden = seq.get_layer("c")(seq.get_layer("a")(x)).detach().numpy()
    extractor = ek.Model(seq.input, seq.get_layer("c").output)
    np.testing.assert_allclose(extractor.predict(x, verbose=0), hidden, rtol=1e-6)
    every = ek.Model(inputs=seq.inputs, outputs=[layer.output for layer in seq.layers])
    features = every(x)
    assert [tuple(f.shape) for f in features] == [(3, 5), (3, 4), (3, 2)]
    np.testing.assert_allclose(features[-1].detach().numpy(), seq.predict(x, verbose=0),
                               rtol=1e-6)
    functional = _mnist_mlp(layers, ek)
    every = ek.Model(functional.inputs, [layer.output for layer in functional.layers])
    features = every(_rand(2, 784))
    assert [tuple(f.shape) for f in features] == [(2, 784), (2, 64), (2, 64), (2, 10)]
    np.testing.assert_array_equal(features[0].detach().numpy(), _rand(2, 784))
    trunk = ek.Model(functional.input, functional.get_layer("d2").output)
    assert trunk.output_shape == (None, 64) and len(trunk.layers) == 3
    # An intermediate tensor as input: the graph starts there (Keras' "backbone" idiom).
    tail = ek.Model(functional.get_layer("d1").output, functional.output)
    z = _rand(2, 64)
    expected = functional.get_layer("predictions")(functional.get_layer("d2")(z))
    np.testing.assert_allclose(tail(z).detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="has no defined input"):
        _ = ek.Sequential([layers.Dense(2)]).input


# ---- calling: training flag, masks, variable length, gradients ----------------------------------
def test_training_flag_reaches_dropout():
    inputs = ek.Input((50,))
    model = ek.Model(inputs, layers.Dropout(0.5)(layers.Dense(50)(inputs)))
    x = _rand(4, 50)
    inference = model(x).detach().numpy()
    np.testing.assert_array_equal(model(x).detach().numpy(), inference)
    training = model(x, training=True).detach().numpy()
    assert (training == 0).sum() > 20 and not np.allclose(training, inference)


def test_masks_flow_as_in_sequential():
    rng = np.random.RandomState(0)
    ids = rng.randint(1, 12, (4, 6))
    ids[0, 3:] = 0
    ids[2, 1:] = 0
    seq = ek.Sequential([ek.Input((6,)), layers.Embedding(12, 4, mask_zero=True),
                         layers.LSTM(5), layers.Dense(2)])
    inputs = ek.Input((6,), dtype="int32")
    x = layers.Embedding(12, 4, mask_zero=True)(inputs)
    model = ek.Model(inputs, layers.Dense(2)(layers.LSTM(5)(x)))
    model.set_weights(seq.get_weights())
    np.testing.assert_allclose(model(ids).detach().numpy(), seq(ids).detach().numpy(),
                               rtol=1e-6)
    keras = real_keras()
    kin = keras.Input((6,), dtype="int32")
    kx = keras.layers.Embedding(12, 4, mask_zero=True)(kin)
    reference = keras.Model(kin, keras.layers.Dense(2)(keras.layers.LSTM(5)(kx)))
    reference.set_weights(model.get_weights())
    np.testing.assert_allclose(model(ids).detach().numpy(), to_numpy(reference(ids)),
                               rtol=1e-5, atol=1e-5)


def test_variable_length_model_runs_on_any_length():
    inputs = ek.Input((None, 3))
    x = layers.Conv1D(4, 3, padding="same")(inputs)
    model = ek.Model(inputs, layers.GlobalMaxPooling1D()(x))
    assert x.shape == (None, None, 4) and model.output_shape == (None, 4)
    for steps in (5, 11):
        assert tuple(model(_rand(2, steps, 3)).shape) == (2, 4)


def test_gradients_through_a_graph_float64():
    a, b = ek.Input((3,)), ek.Input((3,))
    shared = layers.Dense(4, activation="tanh")
    x = layers.concatenate([shared(a), layers.multiply([shared(b), layers.Dense(4)(b)])])
    model = ek.Model([a, b], layers.Dense(2)(x))
    model.double()
    slots = [(layer, name) for layer in model.layers for name, p in layer._parameters.items()
             if p is not None]

    def f(xa, xb, *params):
        saved = [layer._parameters[name] for layer, name in slots]
        for (layer, name), p in zip(slots, params):
            layer._parameters[name] = p
        try:
            return model([xa, xb])
        finally:
            for (layer, name), p in zip(slots, saved):
                layer._parameters[name] = p

    params = [layer._parameters[name].detach().requires_grad_() for layer, name in slots]
    xa = ember.from_numpy(_rand(2, 3).astype(np.float64)).requires_grad_()
    xb = ember.from_numpy(_rand(2, 3, seed=1).astype(np.float64)).requires_grad_()
    assert len(params) == 6
    assert gradcheck(f, (xa, xb, *params), atol=1e-6, rtol=1e-4)


# ---- errors -------------------------------------------------------------------------------------
def test_errors():
    a, b = ek.Input((3,), name="a"), ek.Input((3,), name="b")
    out = layers.add([a, b])
    with pytest.raises(ValueError, match="Graph disconnected"):
        ek.Model(a, out)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        ek.Model(a, None)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        ek.Model(np.zeros((1, 3)), out)
    x = layers.Dense(2, name="same")(a)
    with pytest.raises(ValueError, match='The name "same" is used 2 times'):
        ek.Model(a, layers.Dense(2, name="same")(x))
    model = ek.Model([a, b], out)
    with pytest.raises(ValueError, match="expects 2 input"):
        model([_rand(2, 3)] * 3)
    with pytest.raises(ValueError, match=r"Input 1 of layer .* expected shape=\(None, 3\), "
                                         r"found shape=\(2, 4\)"):
        model([_rand(2, 3), _rand(2, 4)])
    with pytest.raises(ValueError, match=r"missing inputs \['b'\]"):
        model({"a": _rand(2, 3)})
    with pytest.raises(ValueError, match=r"Input 0 .* expected shape=\(None, 3\)"):
        ek.Model(a, x).predict(_rand(2, 5), verbose=0)
    dense = layers.Dense(2, name="d")
    dense(ek.Input((3,)))
    with pytest.raises(ValueError, match='layer "d" is incompatible') as info:
        dense(ek.Input((5,)))
    assert "calling layer 'd' (Dense) on KerasTensors of shapes [(None, 5)]" in \
        info.value.__notes__[0]
    with pytest.raises(TypeError, match="unrecognized keyword"):
        ek.Model(a, x, bogus=1)


def _seq2seq(L, keras):
    """keras-io's character seq2seq: the encoder's states start the decoder (kwargs tensors)."""
    encoder_inputs = keras.Input(shape=(None, 5), name="enc_in")
    _, state_h, state_c = L.LSTM(6, return_state=True, name="encoder")(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, 4), name="dec_in")
    decoder_outputs = L.LSTM(6, return_sequences=True, name="decoder")(
        decoder_inputs, initial_state=[state_h, state_c])
    outputs = L.Dense(4, activation="softmax", name="probs")(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], outputs)


def test_seq2seq_with_initial_state_matches_real_keras():
    model = _seq2seq(layers, ek)
    assert model.output_shape == (None, None, 4)
    decoder = model.get_layer("decoder")
    assert [t.name for t in decoder._inbound_nodes[0].input_tensors][1:] == \
        [t.name for t in model.get_layer("encoder").output[1:]]
    keras = real_keras()
    reference = _seq2seq(keras.layers, keras)
    _copy_weights(reference, model)
    _assert_same_outputs(reference, model, [_rand(2, 7, 5), _rand(2, 3, 4, seed=1)])
    rebuilt = ek.Model.from_config(model.get_config())  # kwargs tensors survive the config
    rebuilt.set_weights(model.get_weights())
    data = [_rand(2, 4, 5, seed=2), _rand(2, 6, 4, seed=3)]
    np.testing.assert_allclose(rebuilt(data).detach().numpy(), model(data).detach().numpy(),
                               rtol=1e-6)


def test_masking_layer_feeds_a_shared_lstm_as_real_keras():
    def build(L, keras):
        inputs = keras.Input((None, 3), name="seq")
        masked = L.Masking(0.0, name="masking")(inputs)
        lstm = L.LSTM(4, return_sequences=True, name="lstm")
        summary = L.GRU(2, name="gru")(lstm(masked))
        return keras.Model(inputs, [summary, L.TimeDistributed(L.Dense(2), name="td")(
            lstm(masked))])

    model = build(layers, ek)
    keras = real_keras()
    reference = build(keras.layers, keras)
    _copy_weights(reference, model)
    x = _rand(3, 6, 3)
    x[0, 4:] = 0.0
    x[2, 2:] = 0.0
    _assert_same_outputs(reference, model, x)


def test_ticket_model_trains_on_dicts_as_in_the_guide():
    model = _ticket_model(layers, ek)
    model.compile(optimizer=ek.optimizers.Adam(1e-2),
                  loss={"priority": ek.losses.BinaryCrossentropy(from_logits=True),
                        "department": ek.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights=[1.0, 0.2])
    rng = np.random.RandomState(0)
    title, body = rng.randint(1, 100, (48, 8)), rng.randint(1, 100, (48, 5))
    tags = rng.randint(0, 2, (48, 12)).astype(np.float32)
    priority = (tags[:, :1] > 0.5).astype(np.float32)
    department = np.eye(4, dtype=np.float32)[(tags[:, 1] + 2 * tags[:, 2]).astype(int)]
    history = model.fit({"title": title, "body": body, "tags": tags},
                        {"priority": priority, "department": department},
                        epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "priority_loss", "department_loss"}
    out = model.predict([title, body, tags], verbose=0)
    assert [o.shape for o in out] == [(48, 1), (48, 4)]
