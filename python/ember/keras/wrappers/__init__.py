"""keras.wrappers: scikit-learn estimators around ember Keras models, with Keras 3's names and
arguments (``SKLearnClassifier``, ``SKLearnRegressor``, ``SKLearnTransformer``), so that
``sklearn.model_selection.cross_val_score`` and ``GridSearchCV`` work on ember models.

scikit-learn is an optional extra (``pip install "ember[sklearn]"``): importing this package
does not import it; the first use of a class does (sklearn_wrapper.py).
"""

_CLASSES = ("SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer")
__all__ = list(_CLASSES)


def __getattr__(name):
    if name not in _CLASSES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import sklearn  # noqa: F401
    except ImportError as error:
        raise ImportError(f'keras.wrappers.{name} needs scikit-learn: pip install '
                          '"ember[sklearn]"') from error
    from . import sklearn_wrapper
    return getattr(sklearn_wrapper, name)


def __dir__():
    return sorted(list(globals()) + list(_CLASSES))
