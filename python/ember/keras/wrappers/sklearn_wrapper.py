"""scikit-learn estimators around ember Keras models, as Keras 3's ``keras.wrappers``.

``model`` is a compiled Model (cloned with ``keras.models.clone_model`` before each fit, so
every fit starts from new weights) or a callable ``model(X=..., y=..., **model_kwargs)``
returning a compiled Model, built from the data it will see (``y`` as the model receives it:
one-hot for the classifier, a column for the others). ``fit_kwargs`` go to ``Model.fit``
(arguments given to ``fit`` itself win). With ``warm_start=True`` a Model is trained itself,
not a clone, and a later ``fit`` continues from the weights of the previous one.

Where ember differs from Keras 3.15's code, it follows Keras' documentation: Keras' code
ignores ``warm_start``, and its ``sklearn.base.clone`` drops ``fit_kwargs``.
"""
from __future__ import annotations

import copy

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import check_is_fitted
except ImportError as error:  # (the package's __getattr__ says this first)
    raise ImportError('ember.keras.wrappers needs scikit-learn: pip install "ember[sklearn]"'
                      ) from error

from ..cloning import clone_model
from ..models import Model


def _validate_data(estimator, *args, reset=True):
    """scikit-learn's input checks: X 2-D and numeric, y 1-D, ``n_features_in_`` set by fit
    (``reset``) and checked by predict."""
    try:
        from sklearn.utils.validation import validate_data  # scikit-learn >= 1.6
    except ImportError:
        return estimator._validate_data(*args, reset=reset)
    return validate_data(estimator, *args, reset=reset)


def _target_type(y) -> str:
    kind = type_of_target(y)
    if kind == "unknown":
        raise ValueError(f"Unknown label type for data: {y!r:.200}")
    return kind


class SKLBase(BaseEstimator):
    """What the three wrappers share: the Keras 3 arguments, fit and predict."""

    def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
        # (scikit-learn: the constructor stores its arguments unchanged; fit checks them)
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        return tags

    def __sklearn_clone__(self):
        """sklearn.base.clone: the same arguments, the model itself shared (not deep-copied:
        fit clones a Model, or calls the function, anyway)."""
        model = self.model if callable(self.model) else copy.deepcopy(self.model)
        return type(self)(model=model, warm_start=self.warm_start,
                          model_kwargs=copy.deepcopy(self.model_kwargs),
                          fit_kwargs=copy.deepcopy(self.fit_kwargs))

    def _get_model(self, X, y):
        if self.warm_start and hasattr(self, "model_"):
            return self.model_
        if isinstance(self.model, Model):
            return self.model if self.warm_start else clone_model(self.model)
        if not callable(self.model):
            raise TypeError(f"{type(self).__name__}: model must be a compiled keras Model or a "
                            "callable returning one (called with X=, y= and model_kwargs). "
                            f"Received: model={self.model!r:.100}")
        model = self.model(X=X, y=y, **(self.model_kwargs or {}))
        if not isinstance(model, Model):
            raise TypeError(f"{type(self).__name__}: the model function must return a keras "
                            f"Model. It returned {type(model).__name__}.")
        return model

    def fit(self, X, y, **kwargs):
        """Fits a model (see the module) on X (n_samples, n_features) and y (n_samples,);
        ``kwargs`` go to ``Model.fit`` on top of ``fit_kwargs``."""
        X, y = _validate_data(self, X, y)
        y = self._process_target(y, reset=True)
        model = self._get_model(X, y)
        if not model.compiled or not model.loss or not model.optimizer:
            raise RuntimeError("Given model needs to be compiled, and have a loss and an "
                               "optimizer.")
        fit_kwargs = dict(self.fit_kwargs or {})
        fit_kwargs.update(kwargs)
        self.history_ = model.fit(X, y, **fit_kwargs)
        self.model_ = model
        return self

    def predict(self, X):
        """The model's predictions, as targets (class labels for the classifier)."""
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self._reverse_process_target(self.model_.predict(X))

    def _process_target(self, y, reset=False):
        """Regressor and transformer: y as a column, as the model is fitted on it."""
        _target_type(y)
        if reset:
            self._target_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _reverse_process_target(self, y):
        y = np.asarray(y)
        if self._target_ndim == 1 and y.ndim == 2:
            if y.shape[1] != 1:
                raise ValueError(f"{type(self).__name__}: the model returns {y.shape[1]} values "
                                 f"per sample (output shape {y.shape}); it was fitted on 1-D "
                                 "targets, which need one.")
            return y[:, 0]
        return y


class SKLearnClassifier(ClassifierMixin, SKLBase):
    """A classifier: y holds class labels (binary or multiclass, any sortable values); the
    model is fitted on their one-hot encoding (one column per class of ``classes_``, in
    sorted order) and ``predict`` returns the label of the largest output."""

    def decision_function(self, X):
        """The model's raw outputs, one column per class."""
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X)

    def _process_target(self, y, reset=False):
        kind = _target_type(y)
        if kind not in ("binary", "multiclass"):
            raise ValueError("Only binary and multiclass target types are supported. Target "
                             f"type: {kind}")
        if reset:
            self.classes_ = np.unique(y)
            if len(self.classes_) == 1:
                raise ValueError("Classifier can't train when only one class is present.")
        return (np.asarray(y).reshape(-1, 1) == self.classes_).astype(np.float32)

    def _reverse_process_target(self, y):
        y = np.asarray(y)
        if y.ndim != 2 or y.shape[1] != len(self.classes_):
            raise ValueError(f"SKLearnClassifier: the model's output of shape {y.shape} does "
                             f"not have one column per class ({len(self.classes_)} classes: "
                             f"{self.classes_.tolist()!r:.100}).")
        return self.classes_[np.argmax(y, axis=1)]

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True, "poor_score": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags


class SKLearnRegressor(RegressorMixin, SKLBase):
    """A regressor: y is one number per sample; ``score`` is R^2."""

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True, "poor_score": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags


class SKLearnTransformer(TransformerMixin, SKLBase):
    """A transformer (in scikit-learn's sense): ``transform`` returns the fitted model's
    outputs, e.g. an embedding for the next step of a pipeline."""

    def transform(self, X):
        check_is_fitted(self)
        X = _validate_data(self, X, reset=False)
        return self.model_.predict(X)

    def _more_tags(self):  # scikit-learn < 1.6
        return {"non_deterministic": True, "preserves_dtype": []}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags
