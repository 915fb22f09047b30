"""Freezing in the Keras face against real Keras 3: ``trainable = False`` on a layer, a nested
model or a whole model moves weights to ``non_trainable_weights``, shows in ``summary()``,
keeps ``fit`` from updating them (a frozen BatchNormalization runs in inference mode), and
changing it after compile or fit behaves as in Keras (an unfrozen weight needs a new
optimizer)."""
import contextlib
import re

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_reference import keras_numpy2_warnings_ignored, real_keras, to_numpy
from test_keras_custom_train_step import regression_model

FREEZES = {
    "base": lambda model, base: setattr(base, "trainable", False),
    "batch_norm": lambda model, base: setattr(base.get_layer("bn"), "trainable", False),
    "hidden": lambda model, base: setattr(model.get_layer("hidden"), "trainable", False),
    "model": lambda model, base: setattr(model, "trainable", False),
    "model_but_hidden": lambda model, base: (setattr(model, "trainable", False),
                                             setattr(model.get_layer("hidden"), "trainable",
                                                     True)),
    "constructor": lambda model, base: None,  # Dense(trainable=False) in build()
    "none": lambda model, base: None,
}


def build(k, freeze="base"):
    """A functional model around a nested Sequential base (conv, batch norm, flatten)."""
    base = k.Sequential([k.Input((5, 5, 2)), k.layers.Conv2D(3, 3, name="conv"),
                         k.layers.BatchNormalization(name="bn"),
                         k.layers.Flatten(name="flat")], name="base")
    inputs = k.Input((5, 5, 2), name="image")
    x = k.layers.Dense(4, activation="relu", name="hidden",
                       trainable=freeze != "constructor")(base(inputs))
    model = k.Model(inputs, k.layers.Dense(3, activation="softmax", name="out")(x), name="m")
    FREEZES[freeze](model, base)
    return model, base


def pair(keras, freeze):
    """(ours, theirs): the same model and weights in ember and in real Keras."""
    (ours, _), (theirs, _) = build(ek, freeze), build(keras, freeze)
    ours.set_weights(their_weights(theirs))
    return ours, theirs


def their_weights(model):
    """Real Keras' get_weights() (read without NumPy 2's __array__ warning)."""
    return [to_numpy(w.value) for w in model.weights]


def quiet(k):
    return contextlib.nullcontext() if k is ek else keras_numpy2_warnings_ignored()


def data(n=16):
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, 5, 5, 2)).astype(np.float32) + 0.5,
            rng.integers(0, 3, n).astype(np.int64))


def summary_text(model, **options):
    lines = []
    model.summary(print_fn=lines.append, **options)
    return "\n".join(lines)


def counts(text):
    return {key: int(re.search(rf"{key} params: ([\d,]+)", text).group(1).replace(",", ""))
            for key in ("Total", "Trainable", "Non-trainable")}


def count_lines(text):
    """The parameter lines after the table, as Keras words them (counts and memory)."""
    return [line.strip() for line in text.splitlines()
            if re.match(r" ?(Total|Trainable|Non-trainable|Optimizer) params:", line)]


def assert_same_weights(ours, theirs, rtol=1e-5, atol=1e-5):
    for a, b in zip(ours.get_weights(), their_weights(theirs), strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("freeze", sorted(FREEZES))
def test_weight_lists_and_summary_counts_match_keras(freeze):
    keras = real_keras()
    ours, theirs = pair(keras, freeze)
    for attr in ("trainable_weights", "non_trainable_weights", "weights"):
        mine, keras_list = getattr(ours, attr), getattr(theirs, attr)
        # (ember's moving statistics are buffers, without Keras' variable names)
        named = [hasattr(w, "name") for w in mine]
        assert [(w.name if has else None, int(np.prod(w.shape)))
                for w, has in zip(mine, named)] == \
            [(w.name if has else None, int(np.prod(w.shape)))
             for w, has in zip(keras_list, named)], attr
        assert len(mine) == len(keras_list)
    assert [layer.trainable for layer in ours.layers] == \
        [layer.trainable for layer in theirs.layers]
    assert count_lines(summary_text(ours)) == count_lines(summary_text(theirs))


OPTIMIZERS = [("SGD", {}), ("SGD", {"momentum": 0.9}), ("Adam", {}), ("Adam", {"amsgrad": True}),
              ("AdamW", {}), ("RMSprop", {}), ("RMSprop", {"momentum": 0.5, "centered": True}),
              ("Adagrad", {}), ("Nadam", {}), ("Adamax", {}), ("Adadelta", {}), ("Ftrl", {}),
              ("Lion", {})]


@pytest.mark.parametrize("name,options", OPTIMIZERS)
def test_summary_after_fit_counts_the_optimizer_as_keras_does(name, options):
    keras = real_keras()
    ours, theirs = pair(keras, "hidden")  # the optimizer keeps slots for trainable weights only
    x, y = data()
    for model, k in ((ours, ek), (theirs, keras)):
        assert "Optimizer params" not in summary_text(model)
        model.compile(optimizer=getattr(k.optimizers, name)(**options),
                      loss="sparse_categorical_crossentropy")
        with quiet(k):
            model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert count_lines(summary_text(ours)) == count_lines(summary_text(theirs))
    assert len(count_lines(summary_text(ours))) == 4


def test_summary_optimizer_params_under_a_schedule_match_keras():
    keras = real_keras()
    ours, theirs = pair(keras, "none")
    x, y = data()
    for model, k in ((ours, ek), (theirs, keras)):  # no learning-rate variable then
        schedule = k.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)
        model.compile(optimizer=k.optimizers.Adam(schedule),
                      loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert count_lines(summary_text(ours)) == count_lines(summary_text(theirs))


def test_summary_counts_for_a_frozen_batch_norm():
    # gamma and beta (2 * 3) join the moving statistics (2 * 3) among the non-trainable.
    ours, _ = build(ek, "batch_norm")
    assert counts(summary_text(ours)) == {"Total": 196, "Trainable": 184, "Non-trainable": 12}


FROZEN_LAYER = {"base": lambda model: model.get_layer("base"),
                "batch_norm": lambda model: model.get_layer("base").get_layer("bn"),
                "hidden": lambda model: model.get_layer("hidden"),
                "constructor": lambda model: model.get_layer("hidden")}


@pytest.mark.parametrize("freeze", sorted(FROZEN_LAYER))
def test_fit_with_frozen_weights_matches_keras(freeze):
    keras = real_keras()
    ours, theirs = pair(keras, freeze)
    frozen = FROZEN_LAYER[freeze](ours)
    before = frozen.get_weights()
    x, y = data()
    for model, k in ((ours, ek), (theirs, keras)):
        model.compile(optimizer=k.optimizers.SGD(0.05, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    assert_same_weights(ours, theirs)
    # (a frozen batch norm also keeps its moving statistics: it runs in inference mode)
    for new, old in zip(frozen.get_weights(), before, strict=True):
        np.testing.assert_array_equal(new, old)


def test_trainable_changed_after_compile_and_fit_as_in_keras():
    keras = real_keras()
    ours, theirs = pair(keras, "none")
    x, y = data()
    models = ((ours, ek), (theirs, keras))

    def fit():
        for model, _ in models:
            model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)

    for model, k in models:
        model.compile(optimizer=k.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
        model.get_layer("out").trainable = False  # after compile, before the first fit
    out = ours.get_layer("out").get_weights()
    fit()  # the optimizer is built now, on the weights trainable now
    assert_same_weights(ours, theirs)
    for a, b in zip(ours.get_layer("out").get_weights(), out):
        np.testing.assert_array_equal(a, b)

    for model, _ in models:
        model.get_layer("out").trainable = True  # unfrozen after fit: unknown to the optimizer
        with pytest.raises(ValueError, match="Unknown variable"):
            model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for model, k in models:  # a new optimizer takes the new set of weights
        model.compile(optimizer=k.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    fit()
    assert_same_weights(ours, theirs)
    assert not np.array_equal(ours.get_layer("out").get_weights()[0], out[0])

    for model, _ in models:  # frozen after fit: no recompile needed
        model.get_layer("out").trainable = False
    out = ours.get_layer("out").get_weights()
    fit()
    assert_same_weights(ours, theirs)
    for a, b in zip(ours.get_layer("out").get_weights(), out):
        np.testing.assert_array_equal(a, b)


def test_a_frozen_model_trains_nothing_and_warns_as_keras_does():
    keras = real_keras()
    ours, theirs = pair(keras, "model")
    before = ours.get_weights()
    x, y = data()
    for model, k in ((ours, ek), (theirs, keras)):
        model.compile(optimizer=k.optimizers.Adam(0.1), loss="sparse_categorical_crossentropy")
        with pytest.warns(UserWarning, match="does not have any trainable weights"), quiet(k):
            model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(ours.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def _marks(text, names):
    """The last cell of each named layer's row (Keras draws cells with "│")."""
    found = {}
    for line in text.splitlines():
        for name in names:
            if re.search(rf"\b{name} \(", line):
                found[name] = line.rstrip(" │").split("│")[-1].split()[-1]
    return [found[name] for name in names]


def test_summary_show_trainable_column_matches_keras():
    keras = real_keras()
    ours, theirs = pair(keras, "hidden")
    names = ["image", "base", "hidden", "out"]
    ours_text = summary_text(ours, show_trainable=True)
    assert "Trainable" in ours_text.splitlines()[2]
    assert _marks(ours_text, names) == _marks(summary_text(theirs, show_trainable=True),
                                              names) == ["-", "Y", "N", "Y"]
    _, base = build(ek, "batch_norm")
    assert _marks(summary_text(base, show_trainable=True), ["conv", "bn", "flat"]) == \
        ["Y", "N", "-"]
    with pytest.raises(NotImplementedError, match="expand_nested"):
        base.summary(expand_nested=True)


def test_freezing_after_fit_in_a_custom_train_step_matches_keras():
    """The optimizer then gets fewer variables than it was built with, as Keras allows."""
    torch = pytest.importorskip("torch")
    keras = real_keras()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype(np.float32)
    # (keras-io's custom train_step: it updates self.trainable_weights by optimizer.apply)
    theirs, ours = regression_model(keras, torch), regression_model(ek, ember)
    theirs(x[:1])
    ours(x[:1])
    ours.set_weights(their_weights(theirs))
    for model, k in ((ours, ek), (theirs, keras)):
        model.compile(optimizer=k.optimizers.SGD(0.05, momentum=0.9))
        model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
        model.hidden.trainable = False
    hidden = ours.hidden.get_weights()
    for model in (ours, theirs):
        model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    assert_same_weights(ours, theirs)
    for a, b in zip(ours.hidden.get_weights(), hidden):
        np.testing.assert_array_equal(a, b)
    other = ek.layers.Dense(1)
    other.build((None, 3))
    with pytest.raises(ValueError, match="Unknown variable"):  # (another model's weight)
        ours.optimizer.apply([ember.zeros(*other.weights[0].shape)], [other.weights[0]])
