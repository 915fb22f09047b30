"""keras.wrappers.SKLearnClassifier / SKLearnRegressor / SKLearnTransformer: scikit-learn
estimators around ember Keras models, with Keras 3's arguments, matching real Keras' wrappers
on the same weights; cross_val_score, GridSearchCV, clone and pipelines work on them."""
import inspect

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import keras_numpy2_warnings_ignored, real_keras

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402

from ember.keras.wrappers import (SKLearnClassifier, SKLearnRegressor,  # noqa: E402
                                  SKLearnTransformer)

QUIET = {"verbose": 0}


def mlp(X, y, hidden=8, loss="categorical_crossentropy", activation="softmax"):
    """Keras' dynamic_model idiom: sizes from the data the wrapper passes."""
    model = ek.Sequential([ek.Input((X.shape[1],)), ek.layers.Dense(hidden, activation="relu"),
                           ek.layers.Dense(y.shape[1] if y.ndim > 1 else 1,
                                           activation=activation)])
    model.compile(optimizer=ek.optimizers.Adam(0.01), loss=loss)
    return model


def classification(n=90, classes=3, seed=0):
    from sklearn.datasets import make_classification
    return make_classification(n_samples=n, n_features=5, n_informative=3, n_redundant=0,
                               n_classes=classes, random_state=seed)


def digits(n=400):
    from ember.datasets import load_digits
    (x, y), _ = load_digits()
    return x[:n].reshape(n, -1).astype(np.float32) / 16, y[:n]


# ---- scikit-learn's model selection ----------------------------------------------------------
def test_cross_val_score_returns_five_scores_on_the_digits():
    X, y = digits()
    clf = SKLearnClassifier(model=mlp, model_kwargs={"hidden": 32},
                            fit_kwargs={"epochs": 15, "batch_size": 32, **QUIET})
    scores = cross_val_score(clf, X, y, cv=5)
    assert scores.shape == (5,)
    assert scores.min() > 0.6, scores  # (chance: 0.1)
    assert not hasattr(clf, "model_")  # cross_val_score fits clones


def test_grid_search_cv_selects_and_refits():
    X, y = digits(300)
    search = GridSearchCV(SKLearnClassifier(model=mlp, fit_kwargs={"epochs": 10, **QUIET}),
                          {"model_kwargs": [{"hidden": 1}, {"hidden": 32}]}, cv=3)
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_params_ == {"model_kwargs": {"hidden": 32}}  # one hidden unit is hopeless
    best = search.best_estimator_
    assert best.model_.layers[0].units == 32
    assert search.score(X, y) == best.score(X, y) > 0.6


# ---- the same training as real Keras' wrappers -----------------------------------------------
def fixed_model(k, weights, loss, activation):
    """A builder whose model starts from ``weights`` (the same in ember and in Keras)."""
    def build(X, y):
        model = k.Sequential([k.Input((X.shape[1],)), k.layers.Dense(6, activation="tanh"),
                              k.layers.Dense(y.shape[1], activation=activation)])
        model.set_weights(weights)
        model.compile(optimizer=k.optimizers.SGD(0.1), loss=loss)
        return model
    return build


def initial_weights(n_in, n_out, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(np.float32) * 0.5
            for shape in ((n_in, 6), (6,), (6, n_out), (n_out,))]


FIT = {"epochs": 3, "batch_size": 20, "shuffle": False, "verbose": 0}


def test_classifier_matches_real_keras_on_the_same_weights():
    keras = real_keras()
    X, y = classification()
    labels = np.array(["cat", "dog", "emu"])[y]  # any labels; the model sees one-hot columns
    weights = initial_weights(5, 3)
    ours = SKLearnClassifier(model=fixed_model(ek, weights, "categorical_crossentropy",
                                               "softmax"), fit_kwargs=FIT).fit(X, labels)
    theirs = keras.wrappers.SKLearnClassifier(
        model=fixed_model(keras, weights, "categorical_crossentropy", "softmax"),
        fit_kwargs=dict(FIT)).fit(X, labels)
    with keras_numpy2_warnings_ignored():
        their_outputs, their_labels = theirs.decision_function(X), theirs.predict(X)
        their_score = theirs.score(X, labels)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    np.testing.assert_allclose(ours.decision_function(X), their_outputs, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), their_labels)
    assert ours.predict(X).dtype == their_labels.dtype
    assert ours.score(X, labels) == their_score
    assert ours.n_features_in_ == theirs.n_features_in_ == 5


def test_regressor_matches_real_keras_on_the_same_weights():
    keras = real_keras()
    from sklearn.datasets import make_regression
    X, y = make_regression(n_samples=60, n_features=5, noise=0.1, random_state=0)
    y = y / np.abs(y).max()
    weights = initial_weights(5, 1)
    ours = SKLearnRegressor(model=fixed_model(ek, weights, "mse", None),
                            fit_kwargs=FIT).fit(X, y)
    theirs = keras.wrappers.SKLearnRegressor(model=fixed_model(keras, weights, "mse", None),
                                             fit_kwargs=dict(FIT)).fit(X, y)
    with keras_numpy2_warnings_ignored():
        their_predictions, their_score = theirs.predict(X), theirs.score(X, y)
    assert ours.predict(X).shape == their_predictions.shape == (60,)
    np.testing.assert_allclose(ours.predict(X), their_predictions, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.score(X, y), their_score, rtol=1e-5)


def test_signatures_and_parameters_match_keras():
    keras = real_keras()
    for name in ("SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"):
        ours, theirs = getattr(ek.wrappers, name), getattr(keras.wrappers, name)
        assert inspect.signature(ours.__init__) == inspect.signature(theirs.__init__)
        assert sorted(ours(model=mlp).get_params()) == sorted(theirs(model=mlp).get_params())
        for method in ("fit", "predict", "score", "decision_function", "transform",
                       "fit_transform", "get_params", "set_params"):
            assert hasattr(ours, method) == hasattr(theirs, method), (name, method)


# ---- estimator basics ------------------------------------------------------------------------
def test_clone_and_get_set_params_round_trip():
    est = SKLearnClassifier(model=mlp, warm_start=False, model_kwargs={"hidden": 4},
                            fit_kwargs={"epochs": 2})
    params = est.get_params()
    assert params == {"model": mlp, "warm_start": False, "model_kwargs": {"hidden": 4},
                      "fit_kwargs": {"epochs": 2}}
    copy = clone(est)
    assert type(copy) is SKLearnClassifier and copy.get_params() == params
    assert copy.model is mlp and copy.model_kwargs is not est.model_kwargs
    assert est.set_params(**params) is est and est.get_params() == params
    est.set_params(warm_start=True, fit_kwargs={"epochs": 1})
    assert est.warm_start is True and est.fit_kwargs == {"epochs": 1}
    with pytest.raises(ValueError, match="Invalid parameter"):
        est.set_params(epochs=3)
    X, y = classification()
    est.fit(X, y, **QUIET)
    assert hasattr(est, "model_") and not hasattr(clone(est), "model_")
    assert est.fit_kwargs == {"epochs": 1}  # fit's own arguments do not leak into the params


def test_a_compiled_model_is_cloned_for_each_fit():
    X, y = classification()
    model = mlp(X, np.eye(3)[y])
    before = model.get_weights()
    est = SKLearnClassifier(model=model, fit_kwargs={"epochs": 2, **QUIET}).fit(X, y)
    assert est.model_ is not model and est.model_.compiled
    for a, b in zip(model.get_weights(), before):  # the given model is left as it was
        np.testing.assert_array_equal(a, b)
    assert est.predict(X).shape == (90,)
    assert set(est.predict(X)) <= {0, 1, 2}


def test_warm_start_trains_on_from_the_previous_fit():
    X, y = classification()
    est = SKLearnClassifier(model=mlp, warm_start=True, fit_kwargs={"epochs": 1, **QUIET})
    first = est.fit(X, y).model_
    weights = first.get_weights()
    assert est.fit(X, y).model_ is first
    assert not np.array_equal(first.get_weights()[0], weights[0])
    model = mlp(X, np.eye(3)[y])  # a Model with warm_start: trained itself, not a clone
    assert SKLearnClassifier(model=model, warm_start=True,
                             fit_kwargs={"epochs": 1, **QUIET}).fit(X, y).model_ is model
    cold = SKLearnClassifier(model=mlp, fit_kwargs={"epochs": 1, **QUIET})
    assert cold.fit(X, y).model_ is not cold.fit(X, y).model_


def test_transformer_in_a_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    X, y = classification()
    transformer = SKLearnTransformer(model=mlp, model_kwargs={"loss": "mse", "activation": None},
                                     fit_kwargs={"epochs": 2, **QUIET})
    assert transformer.fit_transform(X, y).shape == (90, 1)
    np.testing.assert_array_equal(transformer.transform(X),
                                  transformer.model_.predict(X, verbose=0))
    pipe = make_pipeline(clone(transformer), LogisticRegression()).fit(X, y)
    assert pipe.predict(X).shape == (90,)


@pytest.mark.parametrize("check", ["check_get_params_invariance", "check_set_params",
                                   "check_estimators_unfitted", "check_n_features_in",
                                   "check_fit2d_predict1d", "check_dont_overwrite_parameters",
                                   "check_fit_check_is_fitted"])
@pytest.mark.parametrize("cls", [SKLearnClassifier, SKLearnRegressor])
def test_scikit_learn_estimator_checks(cls, check):
    from sklearn.utils import estimator_checks
    loss = "categorical_crossentropy" if cls is SKLearnClassifier else "mse"
    activation = "softmax" if cls is SKLearnClassifier else None
    est = cls(model=mlp, model_kwargs={"loss": loss, "activation": activation},
              fit_kwargs={"epochs": 1, **QUIET})
    getattr(estimator_checks, check)(cls.__name__, est)


# ---- errors ----------------------------------------------------------------------------------
def test_errors_name_the_problem():
    X, y = classification()
    with pytest.raises(NotFittedError):
        SKLearnClassifier(model=mlp).predict(X)
    with pytest.raises(ValueError, match="Only binary and multiclass target types are "
                                         "supported. Target type: continuous"):
        SKLearnClassifier(model=mlp).fit(X, y + 0.5)
    with pytest.raises(ValueError, match="only one class"):
        SKLearnClassifier(model=mlp).fit(X, np.zeros(len(X), int))
    with pytest.raises(TypeError, match="model must be a compiled keras Model or a callable"):
        SKLearnClassifier(model=3).fit(X, y)
    with pytest.raises(TypeError, match="must return a keras Model. It returned dict"):
        SKLearnClassifier(model=lambda X, y: {}).fit(X, y)
    uncompiled = ek.Sequential([ek.Input((5,)), ek.layers.Dense(3)])
    with pytest.raises(RuntimeError, match="needs to be compiled"):
        SKLearnClassifier(model=uncompiled).fit(X, y)
    fitted = SKLearnClassifier(model=mlp, fit_kwargs={"epochs": 1, **QUIET}).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but SKLearnClassifier is "
                                         "expecting 5 features"):
        fitted.predict(X[:, :3])
    fitted.model_ = mlp(X, np.eye(2)[y % 2])  # a model with fewer outputs than classes
    with pytest.raises(ValueError, match=r"output of shape \(90, 2\) does not have one "
                                         r"column per class \(3 classes"):
        fitted.predict(X)
    regressor = SKLearnRegressor(model=mlp, model_kwargs={"loss": "mse", "activation": None},
                                 fit_kwargs={"epochs": 1, **QUIET}).fit(X, y * 1.0)
    regressor.model_ = mlp(X, np.eye(2)[y % 2])
    with pytest.raises(ValueError, match="returns 2 values per sample"):
        regressor.predict(X)

