"""Subclassed keras.Layer / keras.Model: add_weight (Keras 3 signature), automatic tracking of
layers in attributes, lists, dicts and tuples, weight order, the call context's training,
add_loss and losses, get_config/from_config, the custom-object registry, saving, and training
with fit; against real Keras 3 on the same weights where Keras defines the numbers."""
import inspect

import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers
from keras_reference import real_keras, to_numpy
from keras_layer_checks import fresh_keras  # noqa: F401  (autouse)
from keras_layer_checks import rand as _data


def _make_linear(keras):
    """The keras-io guide's Linear layer, written once for either library."""

    class Linear(keras.layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True,
                                     regularizer=keras.regularizers.L2(0.1), name="w")
            self.steps = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                         name="steps")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

        def call(self, inputs):
            return keras.ops.matmul(inputs, self.w) + self.b if hasattr(keras, "ops") \
                else ember.matmul(inputs, self.w) + self.b

    return Linear


Linear = _make_linear(ek)


class ActivityPenalty(layers.Layer):
    """The guide's add_loss example: a penalty on the activations."""

    def __init__(self, rate=1e-2, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * (inputs * inputs).sum())
        return inputs


class MLPBlock(ek.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [Linear(8), Linear(4)]
        self.heads = {"out": layers.Dense(2)}
        self.penalty = ActivityPenalty()
        self.pair = (layers.Dropout(0.5), layers.Dense(2, use_bias=False))

    def call(self, inputs, training=None):
        x = inputs
        for block in self.blocks:
            x = ember.relu(block(x))
        x = self.penalty(x)
        return self.heads["out"](self.pair[0](x)) + self.pair[1](x)


def test_add_weight_has_keras_3_signature():
    keras = real_keras()
    ours = inspect.signature(ek.layers.Layer.add_weight)
    theirs = inspect.signature(keras.layers.Layer.add_weight)
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.default for p in ours.parameters.values()] == \
        [p.default for p in theirs.parameters.values()]


def test_add_weight_positional_and_errors():
    layer = layers.Layer()
    w = layer.add_weight((2, 3), "ones")
    np.testing.assert_array_equal(w.detach().numpy(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="`name` must be passed as a keyword"):
        layer.add_weight("kernel")
    with pytest.raises(ValueError, match="passed both positionally"):
        layer.add_weight((2,), shape=(2,))
    with pytest.raises(TypeError, match="at most 3 positional"):
        layer.add_weight((2,), "ones", None, True)
    with pytest.raises(NotImplementedError, match="float32"):
        layer.add_weight((2,), dtype="float64")
    with pytest.raises(ValueError, match="aggregation"):
        layer.add_weight((2,), aggregation="max")
    with pytest.raises(TypeError, match="unrecognized keyword"):
        layers.Layer(units=3)


def test_weight_assigned_to_an_attribute_is_tracked_once():
    layer = Linear(3)
    layer(_data(2, 5))
    names = [n for n, _ in layer.named_parameters()]
    assert sorted(names) == ["b", "steps", "w"]
    # Keras order: the trainable weights, then the non-trainable ones.
    assert [w.name for w in layer.weights] == ["w", "b", "steps"]
    assert [w.name for w in layer.trainable_weights] == ["w", "b"]
    assert [w.name for w in layer.non_trainable_weights] == ["steps"]
    assert layer.w.path == f"{layer.name}/w"


def test_weights_order_and_shapes_match_real_keras():
    keras = real_keras()
    ours, theirs = Linear(3), _make_linear(keras)(3)
    ours(_data(2, 5))
    theirs(keras.ops.convert_to_tensor(_data(2, 5)))
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]


def test_layers_in_lists_dicts_and_tuples_are_tracked():
    model = MLPBlock()
    model(_data(3, 5))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Linear", "Linear", "Dense", "ActivityPenalty", "Dropout", "Dense"]
    assert len(model.weights) == 3 + 3 + 2 + 1
    assert len(list(model.parameters())) == 9
    model.blocks.append(Linear(2))  # appended later: tracked too
    model.blocks[-1](_data(1, 4))
    assert len(model.layers) == 7 and len(list(model.parameters())) == 12
    model.blocks = []
    assert len(model.layers) == 4 and len(list(model.parameters())) == 3
    state = model.state_dict()
    assert "heads.0.weight" in state and "pair.1.weight" in state


def test_training_flows_from_the_outer_call_as_in_keras():
    seen = {}

    class Probe(layers.Layer):
        def call(self, inputs, training=None):
            seen[self.name] = training
            return inputs

    class Inner(ek.Model):
        def __init__(self):
            super().__init__()
            self.probe = Probe(name="inner_probe")

        def call(self, inputs):
            return self.probe(inputs)

    class Outer(ek.Model):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.probe = Probe(name="outer_probe")
            self.dropout = layers.Dropout(0.99)
            self.gain = self.add_weight(shape=(), initializer="ones", name="gain")

        def call(self, inputs, training=None):
            seen["outer"] = training
            return self.dropout(self.probe(self.inner(inputs))) * self.gain

    model = Outer()
    x = np.ones((4, 50), np.float32)
    out = model(x, training=True)
    assert seen == {"outer": True, "inner_probe": True, "outer_probe": True}
    assert (out.detach().numpy() == 0).mean() > 0.5  # the nested Dropout was training
    out = model(x)  # inference: nothing passed, no outer value
    assert seen == {"outer": None, "inner_probe": None, "outer_probe": None}
    np.testing.assert_array_equal(out.detach().numpy(), x)
    model(x, training=False)
    assert seen == {"outer": False, "inner_probe": False, "outer_probe": False}
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(x, x)  # fit and train_on_batch call the model with training=True
    assert seen == {"outer": True, "inner_probe": True, "outer_probe": True}
    model(x, True)  # positionally
    assert seen["inner_probe"] is True


def test_add_loss_and_losses_are_recursive_and_reset_per_call():
    model = MLPBlock()
    x = _data(3, 5)
    model(x)
    losses = model.losses
    # the ActivityPenalty's add_loss, then the two Linear w penalties (computed fresh)
    assert len(losses) == 3
    penalties = [0.1 * (b.w.detach().numpy().astype(np.float64) ** 2).sum()
                 for b in model.blocks]
    np.testing.assert_allclose([float(v) for v in losses[1:]], penalties, rtol=1e-6)
    model(x)
    assert len(model.losses) == 3  # the first call's add_loss was cleared
    with pytest.raises(ValueError, match="add_loss"):
        model.penalty.add_loss(1.0)


def test_subclassed_model_losses_and_train_on_batch_match_real_keras():
    keras = real_keras()

    def build(k, linear):
        class Net(k.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.hidden = [linear(6), k.layers.Dense(4, activation="tanh",
                                                         activity_regularizer="l2")]
                self.out = k.layers.Dense(1)

            def call(self, inputs):
                x = inputs
                for layer in self.hidden:
                    x = layer(x)
                return self.out(x)

        return Net()

    ours, theirs = build(ek, Linear), build(keras, _make_linear(keras))
    x, y = _data(8, 5, seed=1), _data(8, 1, seed=2)
    ours(x)
    theirs(keras.ops.convert_to_tensor(x))
    theirs.set_weights(ours.get_weights())
    ours(x)
    theirs(keras.ops.convert_to_tensor(x))
    np.testing.assert_allclose([float(v) for v in ours.losses],
                               [float(to_numpy(v)) for v in theirs.losses], rtol=1e-5)
    ours.compile(optimizer=ek.optimizers.SGD(0.05), loss="mse")
    theirs.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    for _ in range(3):
        np.testing.assert_allclose(ours.train_on_batch(x, y), theirs.train_on_batch(x, y),
                                   rtol=1e-5)
    for a, b in zip(ours.get_weights(), [to_numpy(w.value) for w in theirs.weights]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_subclassed_model_trains_with_fit():
    model = MLPBlock()
    x = _data(64, 5, seed=3)
    y = np.stack([x[:, 0] + x[:, 1], x[:, 2]], axis=1)
    model.compile(optimizer=ek.optimizers.Adam(0.01), loss="mse")
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0) < 0.5 * before


# ---- configs, registration and saving ----------------------------------------------------------
def test_auto_config_of_a_subclass_without_get_config():
    layer = ActivityPenalty(rate=0.5, name="pen")
    assert layer.get_config() == {"name": "pen", "rate": 0.5, "trainable": True}
    clone = ActivityPenalty.from_config(layer.get_config())
    assert clone.rate == 0.5 and clone.name == "pen"

    class Holder(layers.Layer):
        def __init__(self, inner, **kwargs):
            super().__init__(**kwargs)
            self.inner = inner

    with pytest.raises(NotImplementedError, match="must override `get_config"):
        Holder(layers.Dense(2)).get_config()


@ek.saving.register_keras_serializable(package="ember_tests")
class Scale(layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.alpha = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                     regularizer=ek.regularizers.L1(0.1),
                                     constraint=ek.constraints.NonNeg(), name="alpha")

    def call(self, inputs):
        return inputs * self.alpha * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@ek.saving.register_keras_serializable(package="ember_tests", name="Regressor")
class Regressor(ek.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.scale = Scale(2.0)
        self.dense = layers.Dense(units, kernel_regularizer="l2")

    def call(self, inputs):
        return self.dense(self.scale(inputs))


def test_registry_names_and_scopes():
    registered = ek.saving.get_custom_objects()
    assert registered["ember_tests>Scale"] is Scale
    assert registered["ember_tests>Regressor"] is Regressor
    assert ek.saving.get_registered_name(Scale) == "ember_tests>Scale"
    assert ek.utils.get_registered_object("ember_tests>Scale") is Scale

    class Local(layers.Layer):
        pass

    with ek.utils.custom_object_scope({"Local": Local}):
        assert ek.saving.get_registered_object("Local") is Local
    assert ek.saving.get_registered_object("Local") is None
    assert ek.utils.CustomObjectScope is ek.saving.CustomObjectScope
    with pytest.raises(ValueError, match="get_config"):
        ek.saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_registered_subclassed_model_saves_and_loads(tmp_path):
    model = Regressor(units=3, name="reg")
    x = _data(5, 4, seed=4)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, _data(5, 3, seed=5), epochs=2, verbose=0)
    path = tmp_path / "reg.ember"
    model.save(path)
    loaded = ek.models.load_model(path)
    assert type(loaded) is Regressor and loaded.units == 3 and loaded.name == "reg"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model(x)
    loaded(x)
    np.testing.assert_allclose([float(v) for v in loaded.losses],
                               [float(v) for v in model.losses], rtol=1e-6)
    assert isinstance(loaded.scale.alpha._keras_constraint[0], ek.constraints.NonNeg)
    # training resumes identically (optimizer state restored)
    y = _data(5, 3, seed=6)
    np.testing.assert_allclose(loaded.train_on_batch(x, y), model.train_on_batch(x, y),
                               rtol=1e-6)


def test_custom_layer_in_a_sequential_through_custom_objects(tmp_path):
    class Shift(layers.Layer):
        def __init__(self, offset=1.0, **kwargs):
            super().__init__(**kwargs)
            self.offset = offset

        def call(self, inputs):
            return inputs + self.offset

    model = ek.Sequential([layers.Input((3,)), Shift(2.0), layers.Dense(2)])
    x = _data(4, 3)
    path = tmp_path / "seq.ember"
    model.save(path)
    with pytest.raises(ValueError, match="Unknown layer class: 'Shift'"):
        ek.models.load_model(path)  # unknown classes stay refused
    loaded = ek.models.load_model(path, custom_objects={"Shift": Shift})
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with ek.utils.custom_object_scope({"Shift": Shift}):
        loaded = ek.models.load_model(path)
    assert loaded.layers[0].offset == 2.0
    # a name that is registered elsewhere but not a Layer is refused
    with pytest.raises(ValueError, match="not a keras Layer"):
        ek.models.load_model(path, custom_objects={"Shift": np.add})


def test_masks_flow_between_layers_called_in_call_as_in_keras():
    """Embedding(mask_zero=True) -> LSTM inside a subclassed model: the LSTM receives the
    embedding's mask without it being passed (Keras' tensor masks); same outputs as Keras."""
    keras = real_keras()

    def build(k):
        class Tagger(k.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.embed = k.layers.Embedding(10, 4, mask_zero=True)
                self.dropout = k.layers.Dropout(0.5)
                self.rnn = k.layers.LSTM(3, return_sequences=True)
                self.pool = k.layers.LSTM(2)

            def call(self, ids, training=None):
                return self.pool(self.rnn(self.dropout(self.embed(ids))))

        return Tagger()

    ids = np.array([[3, 4, 0, 0], [1, 2, 5, 0]])
    ours, theirs = build(ek), build(keras)
    ours(ids)
    theirs(keras.ops.convert_to_tensor(ids))
    theirs.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(ids).detach().numpy(),
                               to_numpy(theirs(keras.ops.convert_to_tensor(ids))),
                               rtol=1e-5, atol=1e-6)
    unmasked = build(ek)
    unmasked(ids)
    unmasked.set_weights(ours.get_weights())
    unmasked.embed.mask_zero = False
    assert not np.allclose(unmasked(ids).detach().numpy(), ours(ids).detach().numpy())


def test_a_layer_whose_call_takes_mask_receives_it():
    received = []

    class Pool(layers.Layer):
        def call(self, inputs, mask=None):
            received.append(None if mask is None else mask.numpy().copy())
            return inputs.sum(dim=1)

    class Net(ek.Model):
        def __init__(self):
            super().__init__()
            self.embed = layers.Embedding(6, 2, mask_zero=True)
            self.pool = Pool()

        def call(self, ids):
            return self.pool(self.embed(ids))

    ids = np.array([[1, 0], [2, 3]])
    with pytest.warns(UserWarning, match="destroy the mask"):  # as Keras: no compute_mask
        Net()(ids)
    np.testing.assert_array_equal(received[0], ids != 0)


def test_build_creates_the_weights_of_a_subclassed_model(tmp_path):
    model = MLPBlock()
    model.build((None, 5))
    assert model.built and len(model.weights) == 9 and model.losses[1:] != []
    assert model.count_params() == 5 * 8 + 8 + 1 + 8 * 4 + 4 + 1 + 4 * 2 + 2 + 4 * 2
    path = tmp_path / "block.weights.ember"
    model.save_weights(path)
    fresh = MLPBlock()
    fresh.build((None, 5))  # the Keras idiom before load_weights
    fresh.load_weights(path)
    x = _data(3, 5)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="input_shape"):
        MLPBlock().build()


def test_weights_have_keras_variable_methods():
    """The guide's ComputeSum: a non-trainable weight updated with assign_add in call()."""

    class ComputeSum(layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                         trainable=False)

        def call(self, inputs):
            self.total.assign_add(inputs.sum(dim=0))
            return self.total

    x = np.ones((2, 2), np.float32)
    my_sum = ComputeSum(2)
    my_sum(x)
    y = my_sum(x)
    np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])
    assert my_sum.weights == [my_sum.total] and my_sum.trainable_weights == []
    assert my_sum.total.trainable is False and my_sum.total.name == "variable"
    w = Linear(2)
    w(x)
    assert w.w.trainable is True and w.w.value is w.w
    w.w.assign(np.zeros((2, 2)))
    w.w.assign_sub(np.ones((2, 2)))
    np.testing.assert_array_equal(w.w.numpy(), -np.ones((2, 2)))  # numpy() also when trainable
    with pytest.raises(ValueError, match="must match"):
        w.w.assign(np.zeros(3))
    w.w.trainable = False
    assert w.trainable_weights == [w.b]


def test_subclassed_model_with_two_inputs_runs_in_the_call_context():
    seen = []

    class TwoTowers(ek.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.towers = {"a": layers.Dense(3, kernel_regularizer=ek.regularizers.L2(0.5)),
                           "b": layers.Dense(3)}
            self.head = layers.Dense(1)

        def call(self, inputs, training=None):
            seen.append(training)
            a, b = inputs
            return self.head(self.towers["a"](a) + self.towers["b"](b))

    model = TwoTowers()
    xa, xb, y = _data(6, 4, seed=1), _data(6, 2, seed=2), _data(6, 1, seed=3)
    model.compile(optimizer=ek.optimizers.SGD(0.1), loss="mse")
    loss = model.train_on_batch([xa, xb], y)
    assert seen[-1] is True  # fit's training=True reached call()
    model([xa, xb])
    assert seen[-1] is None and len(model.losses) == 1
    kernel = model.towers["a"].get_weights()[0].astype(np.float64)
    np.testing.assert_allclose(float(model.losses[0]), 0.5 * (kernel ** 2).sum(), rtol=1e-6)
    plain = float(((model.predict([xa, xb], verbose=0) - y) ** 2).mean())
    np.testing.assert_allclose(model.evaluate([xa, xb], y, verbose=0),
                               plain + float(model.losses[0]), rtol=1e-5)
    assert np.isfinite(loss)
