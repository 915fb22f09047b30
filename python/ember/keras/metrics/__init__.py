"""keras.metrics: Keras 3's metrics, stateful (``update_state``, ``result``, ``reset_state``)
and computed with NumPy from detached predictions. See base_metrics.py for "accuracy"."""
from .accuracy_metrics import (SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy,
                               sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .base_metrics import (BinaryAccuracy, CategoricalAccuracy, Mean, MeanAbsoluteError,
                           MeanMetricWrapper, MeanSquaredError, Metric,
                           SparseCategoricalAccuracy, Sum, _ResolvedAccuracy, binary_accuracy,
                           snake_case,
                           categorical_accuracy, mae, mean_absolute_error, mean_squared_error,
                           mse, resolve_accuracy, sparse_categorical_accuracy)
from .confusion_metrics import (AUC, FalseNegatives, FalsePositives, Precision, Recall,
                                TrueNegatives, TruePositives)
from .f_score_metrics import F1Score, FBetaScore
from .iou_metrics import MeanIoU
from .regression_metrics import RootMeanSquaredError
from .error_metrics import (CosineSimilarity, LogCoshError, MeanAbsolutePercentageError,
                            MeanSquaredLogarithmicError, cosine_similarity, log_cosh,
                            mean_absolute_percentage_error, mean_squared_logarithmic_error)
from ..serialization_lib import deserialize_object, serialize_object


_CLASSES = {cls.__name__: cls for cls in (
    Mean, Sum, MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, AUC, Precision,
    Recall, TruePositives, FalsePositives, TrueNegatives, FalseNegatives, BinaryAccuracy,
    CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, F1Score, FBetaScore, MeanIoU)}
_CLASSES.update({cls.__name__: cls for cls in (
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError)})
# Keras' names for compile(metrics=[...]): class names, their snake case, and abbreviations.
_BY_NAME = {**_CLASSES, **{snake_case(name): cls for name, cls in _CLASSES.items()},
            "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError,
            "MAE": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
            "MAPE": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
            "MSLE": MeanSquaredLogarithmicError}


def serialize(metric) -> dict:
    """{"module", "class_name", "config", "registered_name"} of a built-in metric."""
    return serialize_object(metric, _CLASSES, "keras.metrics", "metric")


def deserialize(config, custom_objects=None) -> Metric:
    """A metric from ``{"class_name": ..., "config": {...}}``."""
    return deserialize_object(config, _BY_NAME, "metric", custom_objects)


def get(identifier) -> Metric:
    """A fresh Metric from a name (logged under that name), a Metric instance, or a per-sample
    function ``f(y_true, y_pred)``."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return _ResolvedAccuracy(identifier)
        cls = _BY_NAME.get(identifier)
        if cls is None:
            valid = sorted(list(_BY_NAME) + ["accuracy", "acc"])
            raise ValueError(f"Could not interpret metric identifier: {identifier!r}. Valid "
                             f"names are: {', '.join(valid)}")
        metric = cls()  # named as Keras does: its default name is used up, then replaced
        metric.name = identifier
        return metric
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
