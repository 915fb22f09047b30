"""A subclassed keras.Model with its own train_step (keras-io's "Customizing what happens in
fit() with PyTorch"): the data it is handed, the logs fit keeps, metrics reset per epoch,
optimizer.apply, and the same weights as real Keras running the same class."""
import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.utils.data import DataLoader, TensorDataset

from keras_reference import real_keras, to_numpy


def recording_model(keras):
    """A model whose train_step records the structure of each ``data`` it gets."""
    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)
            self.seen = []

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            self.seen.append(describe(data))
            return {"a": 1.0}
    return Recorder()


def describe(data):
    """'tensor', 'none', or the container type with its parts described."""
    if isinstance(data, (tuple, list)):
        return (type(data).__name__, tuple(describe(d) for d in data))
    return "none" if data is None else "tensor" if hasattr(data, "shape") else repr(data)


@pytest.mark.parametrize("with_y, with_weights", [(False, False), (True, False), (True, True)])
def test_fit_hands_train_step_the_data_as_keras_does(with_y, with_weights):
    keras = real_keras()
    x = np.zeros((4, 3), np.float32)
    kwargs = {}
    if with_y:
        kwargs["y"] = np.zeros((4, 1), np.float32)
    if with_weights:
        kwargs["sample_weight"] = np.ones(4, np.float32)
    seen = {}
    for name, module in (("ember", ek), ("keras", keras)):
        model = recording_model(module)
        model.compile()
        history = model.fit(x, epochs=1, batch_size=2, verbose=0, shuffle=False, **kwargs)
        assert history.history == {"a": [1.0]}
        # train_on_batch hands over (x, y, sample_weight) and returns the one logged value
        assert model.train_on_batch(x, kwargs.get("y"), kwargs.get("sample_weight")) == 1.0
        assert model.train_on_batch(x, kwargs.get("y"), return_dict=True) == {"a": 1.0}
        seen[name] = model.seen
    assert seen["ember"] == seen["keras"] and len(seen["ember"]) == 4


def test_a_data_loader_batch_comes_as_it_is():
    torch = pytest.importorskip("torch")
    keras = real_keras()
    x = np.zeros((4, 3), np.float32)
    theirs, ours = recording_model(keras), recording_model(ek)
    theirs.compile()
    ours.compile()
    theirs.fit(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.tensor(x)),
                                           batch_size=2), epochs=1, verbose=0, shuffle=False)
    ours.fit(DataLoader(TensorDataset(ember.tensor(x)), batch_size=2), epochs=1, verbose=0,
             shuffle=False)
    assert ours.seen == theirs.seen == [("list", ("tensor",))] * 2


def regression_model(keras, torch):
    """keras-io's CustomModel for the torch backend: zero_grad, backward, optimizer.apply, a
    Mean loss tracker and a metric listed in ``metrics``."""
    class CustomModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(4, activation="tanh")
            self.out = keras.layers.Dense(1)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

        def call(self, x):
            return self.out(self.hidden(x))

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = keras.losses.mean_squared_error(y, y_pred).mean()
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}
    return CustomModel()


def test_training_matches_real_keras_running_the_same_class():
    torch = pytest.importorskip("torch")
    keras = real_keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype(np.float32)
    theirs, ours = regression_model(keras, torch), regression_model(ek, ember)
    theirs(x[:1])
    ours(ember.tensor(x[:1]))
    ours.set_weights([to_numpy(v.value) for v in theirs.weights])
    theirs.compile(optimizer=keras.optimizers.SGD(0.1))
    ours.compile(optimizer=ek.optimizers.SGD(0.1))
    got = ours.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    want = theirs.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    assert set(got) == set(want) == {"loss", "mae"}
    # The trackers are reset at each epoch: each epoch's mean, not a running one.
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["mae"], want["mae"], rtol=1e-5)
    assert got["loss"][-1] < got["loss"][0]
    for mine, ref in zip(ours.get_weights(), [to_numpy(v.value) for v in theirs.weights]):
        np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-6)


def test_super_train_step_is_the_ordinary_step():
    class Plain(ek.Model):
        def __init__(self):
            super().__init__()
            self.dense = ek.layers.Dense(1)
            self.calls = 0

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            self.calls += 1
            return super().train_step(data)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 2)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    results = []
    for cls in (Plain, None):
        ember.manual_seed(0)
        model = Plain() if cls else ek.Sequential([ek.Input((2,)), ek.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        history = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        results.append((history.history["loss"], model.predict(x, verbose=0)))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


def test_train_step_must_return_a_dict():
    class Bad(ek.Model):
        def train_step(self, data):
            return 1.0
    model = Bad()
    model.compile()
    with pytest.raises(TypeError, match=r"Bad.train_step\(\) must return a dict of logs"):
        model.fit(np.zeros((2, 1), np.float32), verbose=0)


def test_optimizer_apply_matches_real_keras_and_checks_its_arguments():
    keras = real_keras()
    start = np.arange(6, dtype=np.float32).reshape(2, 3)
    grads = [np.full((2, 3), 0.5, np.float32),
             np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)]
    ours_v, theirs_v = ember.nn.Parameter(ember.tensor(start)), keras.Variable(start)
    ours_opt, theirs_opt = ek.optimizers.Adam(0.1), keras.optimizers.Adam(0.1)
    for g in grads:
        ours_opt.apply([ember.tensor(g)], [ours_v])
        theirs_opt.apply([keras.ops.convert_to_tensor(g)], [theirs_v])
    np.testing.assert_allclose(ours_v.detach().numpy(), to_numpy(theirs_v.value), atol=1e-5)
    ours_opt.apply([ember.tensor(grads[0])])  # the variables it was built with
    assert ours_opt.iterations == 3
    with pytest.raises(ValueError, match=r"Adam.apply: got 2 gradients for 1 variables"):
        ours_opt.apply([ember.tensor(grads[0])] * 2, [ours_v])
    with pytest.raises(ValueError, match=r"must already be built"):
        ek.optimizers.SGD().apply([ember.tensor(grads[0])])


def test_training_is_taken_by_call_not_passed_to_a_call_without_it():
    keras = real_keras()
    x = np.ones((2, 3), np.float32)
    for module, tensor in ((ek, ember.tensor(x)), (keras, x)):
        class NoTrainingArg(module.Model):
            def __init__(self):
                super().__init__()
                self.dense = module.layers.Dense(2, kernel_initializer="ones")

            def call(self, x):
                return self.dense(x)
        model = NoTrainingArg()
        np.testing.assert_allclose(to_numpy(model(tensor, training=True)), np.full((2, 2), 3.0))
        np.testing.assert_allclose(to_numpy(model(tensor, training=False)), np.full((2, 2), 3.0))
