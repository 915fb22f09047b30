"""Keras-face stateful metrics: the same results as real Keras on random data accumulated over
several batches (with and without sample weights), reset_state, names, configs, compile strings
and the names fit logs, and errors."""
import warnings

import numpy as np
import pytest

import ember
from ember import keras as ek
from keras_reference import real_keras, to_numpy


@pytest.fixture(autouse=True)
def _fresh_names():
    ek.utils.clear_session()
    ember.manual_seed(0)


def _quiet(fn, *args, **kwargs):
    """Calls real Keras, whose torch backend converts tensors in ways NumPy 2 warns about."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", "You are passing weight as `float`")
        return fn(*args, **kwargs)


# ---- data: each kind gives (y_true, y_pred) for a batch --------------------------------------
def _binary(rng, n):
    return rng.randint(0, 2, (n, 1)).astype(np.float32), rng.rand(n, 1).astype(np.float32)


def _binary_rank1(rng, n):
    return rng.randint(0, 2, n).astype(np.float32), rng.rand(n).astype(np.float32)


def _multilabel(rng, n):
    return rng.randint(0, 2, (n, 4)).astype(np.float32), rng.rand(n, 4).astype(np.float32)


def _logits(rng, n):
    return rng.randint(0, 2, (n, 3)).astype(np.float32), (rng.randn(n, 3) * 3).astype(
        np.float32)


def _onehot(rng, n):
    labels = rng.randint(0, 5, n)
    p = rng.rand(n, 5).astype(np.float32)
    return np.eye(5, dtype=np.float32)[labels], p / p.sum(axis=1, keepdims=True)


def _sparse(rng, n):
    y, p = _onehot(rng, n)
    return np.argmax(y, axis=1).astype(np.int64), p


def _sparse_column(rng, n):
    y, p = _sparse(rng, n)
    return y[:, None], p


def _labels(rng, n):
    return rng.randint(0, 4, n).astype(np.int64), rng.randint(0, 4, n).astype(np.int64)


def _label_scores(rng, n):
    return rng.randint(0, 4, (n, 2)).astype(np.int64), rng.rand(n, 2, 4).astype(np.float32)


def _regression(rng, n):
    return rng.randn(n, 3).astype(np.float32), rng.randn(n, 3).astype(np.float32)


def _regression_column(rng, n):
    return rng.randn(n).astype(np.float32), rng.randn(n, 1).astype(np.float32)


CASES = [
    ("Precision", {}, _binary), ("Precision", {}, _binary_rank1),
    ("Precision", {"thresholds": [0.3, 0.5, 0.7]}, _multilabel),
    ("Precision", {"top_k": 2}, _multilabel), ("Precision", {"class_id": 1}, _multilabel),
    ("Precision", {"top_k": 2, "class_id": 3}, _multilabel),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, _multilabel),  # evenly spaced
    ("Recall", {}, _binary), ("Recall", {"thresholds": [0.2, 0.8]}, _multilabel),
    ("Recall", {"top_k": 1}, _onehot), ("Recall", {"class_id": 2, "thresholds": 0.4}, _onehot),
    ("TruePositives", {}, _binary), ("FalsePositives", {"thresholds": [0.2, 0.7]}, _multilabel),
    ("TrueNegatives", {"thresholds": 0.3}, _binary_rank1), ("FalseNegatives", {}, _multilabel),
    ("AUC", {}, _binary), ("AUC", {}, _multilabel), ("AUC", {"curve": "PR"}, _binary),
    ("AUC", {"num_thresholds": 50, "summation_method": "minoring"}, _multilabel),
    ("AUC", {"curve": "PR", "summation_method": "majoring"}, _binary),
    ("AUC", {"curve": "PRGAIN"}, _binary), ("AUC", {"multi_label": True}, _multilabel),
    ("AUC", {"multi_label": True, "label_weights": [1.0, 2.0, 0.5, 0.0],
             "curve": "PR"}, _multilabel),
    ("AUC", {"multi_label": True, "num_labels": 4, "curve": "PR",
             "summation_method": "minoring"}, _multilabel),
    ("AUC", {"label_weights": [0.5, 1.0, 2.0, 1.0]}, _multilabel),
    ("AUC", {"from_logits": True}, _logits),
    ("AUC", {"thresholds": [0.6, 0.2, 0.4]}, _binary),
    ("F1Score", {}, _onehot), ("F1Score", {"average": "micro"}, _onehot),
    ("F1Score", {"average": "macro", "threshold": 0.3}, _multilabel),
    ("F1Score", {"average": "weighted"}, _multilabel),
    ("FBetaScore", {"beta": 2.0, "average": "macro"}, _onehot),
    ("FBetaScore", {"beta": 0.5, "threshold": 0.5}, _multilabel),
    ("RootMeanSquaredError", {}, _regression),
    ("RootMeanSquaredError", {}, _regression_column),
    ("TopKCategoricalAccuracy", {}, _onehot), ("TopKCategoricalAccuracy", {"k": 2}, _onehot),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, _sparse),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, _sparse_column),
    ("SparseTopKCategoricalAccuracy", {"k": 1}, _label_scores),
    ("BinaryAccuracy", {}, _binary), ("BinaryAccuracy", {"threshold": 0.3}, _multilabel),
    ("CategoricalAccuracy", {}, _onehot), ("SparseCategoricalAccuracy", {}, _sparse),
    ("SparseCategoricalAccuracy", {}, _sparse_column),
    ("MeanIoU", {"num_classes": 4}, _labels),
    ("MeanIoU", {"num_classes": 4, "ignore_class": 0, "dtype": "float32"}, _labels),
    ("MeanIoU", {"num_classes": 4, "sparse_y_pred": False, "dtype": "float32"},
     _label_scores),
    ("MeanSquaredError", {}, _regression), ("MeanAbsoluteError", {}, _regression),
    ("MeanSquaredError", {}, _regression_column),
    ("MeanAbsolutePercentageError", {}, _regression),
    ("MeanAbsolutePercentageError", {}, _regression_column),
    ("MeanSquaredLogarithmicError", {}, _regression),
    ("CosineSimilarity", {}, _regression), ("CosineSimilarity", {}, _regression_column),
    ("LogCoshError", {}, _regression), ("LogCoshError", {}, _regression_column),
]
IDS = [f"{name}{i}" for i, (name, _, _) in enumerate(CASES)]


def _batches(kind, weighted, seed=0, sizes=(16, 7, 24)):
    rng = np.random.RandomState(seed)
    out = []
    for n in sizes:
        y_true, y_pred = kind(rng, n)
        shape = y_true.shape if kind is _label_scores else (n,)  # (MeanIoU: one per label)
        weight = rng.rand(*shape).astype(np.float32) * 2 if weighted else None
        if weighted == "int":
            weight = rng.randint(0, 3, shape).astype(np.int64)
        out.append((y_true, y_pred, weight))
    return out


def _keras_result(metric):
    value = _quiet(metric.result)
    return to_numpy(value)


def _update(metric, y_true, y_pred, weight, torch_inputs=False):
    if torch_inputs:
        import torch
        y_true, y_pred = torch.tensor(y_true), torch.tensor(y_pred)
        weight = None if weight is None else torch.tensor(weight)
    if weight is None:
        return _quiet(metric.update_state, y_true, y_pred)
    return _quiet(metric.update_state, y_true, y_pred, sample_weight=weight)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name,kw,kind", CASES, ids=IDS)
def test_results_match_real_keras_over_several_batches(name, kw, kind, weighted):
    keras = real_keras()
    if name == "MeanIoU" and weighted and "dtype" not in kw:
        weighted = "int"  # integer counts by default: float weights would be truncated
    ours = getattr(ek.metrics, name)(**kw)
    theirs = getattr(keras.metrics, name)(**kw)
    for y_true, y_pred, weight in _batches(kind, weighted):
        _update(ours, y_true, y_pred, weight)
        _update(theirs, y_true, y_pred, weight, torch_inputs=True)
        np.testing.assert_allclose(ours.result(), _keras_result(theirs), rtol=1e-5, atol=1e-6)
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(ours.result(), _keras_result(theirs), atol=1e-7)
    y_true, y_pred, weight = _batches(kind, weighted, seed=1, sizes=(9,))[0]
    _update(ours, y_true, y_pred, weight)
    _update(theirs, y_true, y_pred, weight, torch_inputs=True)
    np.testing.assert_allclose(ours.result(), _keras_result(theirs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,kw,kind", CASES, ids=IDS)
def test_names_and_configs_match_real_keras(name, kw, kind):
    keras = real_keras()
    keras.backend.clear_session(free_memory=False)  # names only: skip gc
    ours, theirs = getattr(ek.metrics, name)(**kw), getattr(keras.metrics, name)(**kw)
    assert ours.name == theirs.name
    config, expected = ours.get_config(), _quiet(theirs.get_config)
    assert set(config) == set(expected)
    for key, value in expected.items():
        value = to_numpy(value).tolist() if hasattr(value, "detach") else value
        assert config[key] == (pytest.approx(value) if key == "thresholds" else value), key
    rebuilt = type(ours).from_config(config)
    assert rebuilt.get_config() == config


def test_unnamed_metrics_are_numbered_as_keras_does():
    keras = real_keras()
    keras.backend.clear_session(free_memory=False)  # names only: skip gc
    ours = [ek.metrics.AUC(), ek.metrics.AUC(), ek.metrics.Precision(), ek.metrics.AUC()]
    theirs = [keras.metrics.AUC(), keras.metrics.AUC(), keras.metrics.Precision(),
              keras.metrics.AUC()]
    assert [m.name for m in ours] == [m.name for m in theirs] == ["auc", "auc_1", "precision",
                                                                  "auc_2"]
    ek.utils.clear_session()
    assert ek.metrics.AUC().name == "auc"


def test_mean_and_sum_with_weights_of_several_ranks():
    keras = real_keras()
    rng = np.random.RandomState(4)
    values = rng.randn(6, 3).astype(np.float32)
    for weight in (None, rng.rand(6).astype(np.float32), rng.rand(6, 3).astype(np.float32),
                   rng.rand(6, 1).astype(np.float32)):
        for name in ("Mean", "Sum"):
            ours, theirs = getattr(ek.metrics, name)(), getattr(keras.metrics, name)()
            for _ in range(2):
                ours.update_state(values, sample_weight=weight)
                _quiet(theirs.update_state, values, sample_weight=weight)
            np.testing.assert_allclose(ours.result(), _keras_result(theirs), rtol=1e-5)
    ours, theirs = ek.metrics.Mean(), keras.metrics.Mean()
    ours.update_state(2.5)
    _quiet(theirs.update_state, 2.5)
    assert ours.result() == pytest.approx(float(_keras_result(theirs)))


def test_precision_recall_against_a_direct_count():
    # A hand count, independent of Keras: thresholds 0.5 and top_k.
    y_true = np.array([[1, 0, 1], [0, 1, 1]], dtype=np.float32)
    y_pred = np.array([[0.9, 0.6, 0.2], [0.7, 0.8, 0.55]], dtype=np.float32)
    p, r = ek.metrics.Precision(), ek.metrics.Recall()
    p.update_state(y_true, y_pred)
    r.update_state(y_true, y_pred)
    # predicted positive: 0.9(T) 0.6(F) 0.7(F) 0.8(T) 0.55(T) -> tp 3, fp 2; positives 4
    assert p.result() == pytest.approx(3 / 5) and r.result() == pytest.approx(3 / 4)
    top1 = ek.metrics.Precision(top_k=1)
    top1.update_state(y_true, y_pred)  # 0.9 (T) and 0.8 (T)
    assert top1.result() == 1.0
    weighted = ek.metrics.Precision()
    weighted.update_state(y_true, y_pred, sample_weight=[1.0, 3.0])
    # row 1: tp 1 fp 1 (w 1); row 2: tp 2 fp 1 (w 3) -> 7 / 11
    assert weighted.result() == pytest.approx(7 / 11)
    several = ek.metrics.Recall(thresholds=[0.5, 0.85])
    several.update_state(y_true, y_pred)
    np.testing.assert_allclose(several.result(), [3 / 4, 1 / 4])


def test_auc_of_a_perfect_and_a_reversed_ranking():
    y = np.array([0, 0, 1, 1], dtype=np.float32)
    good, bad = ek.metrics.AUC(), ek.metrics.AUC()
    good.update_state(y, [0.1, 0.3, 0.6, 0.9])
    bad.update_state(y, [0.9, 0.6, 0.3, 0.1])
    assert good.result() == pytest.approx(1.0, abs=1e-6)
    assert bad.result() == pytest.approx(0.0, abs=1e-6)


# ---- compile and fit -------------------------------------------------------------------------
def _binary_problem(n=64, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, 4).astype(np.float32)
    y = (x[:, :1] + 0.5 * rng.randn(n, 1) > 0).astype(np.float32)
    return x, y


STRING_METRICS = ["precision", "recall", "AUC", "binary_accuracy", "f1_score",
                  "mean_squared_error", "mse", "root_mean_squared_error", "Precision"]


def test_metric_strings_in_compile_and_the_names_fit_logs_match_real_keras():
    keras = real_keras()
    keras.backend.clear_session(free_memory=False)  # names only: skip gc
    x, y = _binary_problem()
    metrics = STRING_METRICS + ["accuracy"]

    def objects(module):
        return [module.metrics.AUC(), module.metrics.AUC(curve="PR"),
                module.metrics.F1Score(threshold=0.5, name="f1_at_half"),
                module.metrics.Recall(name="rec")]

    ours = ek.Sequential([ek.layers.Input((4,)), ek.layers.Dense(1, activation="sigmoid")])
    ours.compile(optimizer="adam", loss="binary_crossentropy",
                 metrics=metrics + objects(ek))
    history = ours.fit(x, y, epochs=1, batch_size=16, verbose=0, validation_data=(x, y))
    ref = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    ref.compile(optimizer="adam", loss="binary_crossentropy", metrics=metrics + objects(keras))
    expected = _quiet(ref.fit, x, y, epochs=1, batch_size=16, verbose=0,
                      validation_data=(x, y))
    assert sorted(history.history) == sorted(expected.history)
    assert {"auc", "auc_1", "val_auc_1", "AUC", "val_f1_at_half"} <= set(history.history)


def test_evaluate_reports_the_metric_of_the_predictions():
    x, y = _binary_problem()
    model = ek.Sequential([ek.layers.Input((4,)), ek.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=["auc", ek.metrics.Precision(thresholds=0.4),
                           ek.metrics.F1Score(), "root_mean_squared_error"])
    loss, auc, precision, f1, rmse = model.evaluate(x, y, batch_size=10, verbose=0)
    p = model.predict(x, verbose=0)
    for metric, value in ((ek.metrics.AUC(), auc), (ek.metrics.Precision(thresholds=0.4),
                                                   precision),
                          (ek.metrics.RootMeanSquaredError(), rmse)):
        metric.update_state(y, p)
        assert metric.result() == pytest.approx(value, rel=1e-6)
    assert np.shape(f1) == (1,)  # one score per class, as Keras gives without `average`


def test_per_class_metric_in_fit_logs_an_array():
    x, y = _binary_problem()
    model = ek.Sequential([ek.layers.Input((4,)), ek.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=[ek.metrics.Recall(thresholds=[0.3, 0.6])])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert [np.shape(v) for v in history.history["recall"]] == [(2,), (2,)]


# ---- errors ----------------------------------------------------------------------------------
def test_bad_arguments_and_inputs():
    m = ek.metrics
    with pytest.raises(ValueError, match=r"Precision.*threshold values must be in \[0, 1\]"):
        m.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="Recall.*top_k must be a positive integer"):
        m.Recall(top_k=0)
    with pytest.raises(ValueError, match="AUC.*num_thresholds.*> 1"):
        m.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match='AUC.*curve value: "ROCK"'):
        m.AUC(curve="ROCK")
    with pytest.raises(ValueError, match='AUC.*summation method value: "mid"'):
        m.AUC(summation_method="mid")
    with pytest.raises(ValueError, match="AUC.*num_labels.*multi_label"):
        m.AUC(num_labels=3)
    with pytest.raises(ValueError, match="AUC.*rank 2.*multi_label"):
        m.AUC(multi_label=True).update_state(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="F1Score.*average.*'mean'"):
        m.F1Score(average="mean")
    with pytest.raises(ValueError, match="FBetaScore.*beta.*Python float"):
        m.FBetaScore(beta=2)
    with pytest.raises(ValueError, match=r"F1Score.*threshold.*0 < threshold <= 1"):
        m.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match="F1Score expects 2D inputs.*y_pred.shape=\\(4,\\)"):
        m.F1Score().update_state(np.ones(4), np.ones(4))
    with pytest.raises(ValueError, match="MeanIoU.*num_classes.*positive"):
        m.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match=r"Precision.*same shape.*\(4, 2\).*\(4, 3\)"):
        m.Precision().update_state(np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="Precision.*class_id=5 is out of range"):
        m.Precision(class_id=5).update_state(np.ones((4, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"sparse_top_k.*ids must be in \[0, 3\)"):
        m.SparseTopKCategoricalAccuracy(k=2).update_state(np.array([0, 3]), np.ones((2, 3)))
    with pytest.raises(ValueError, match="top_k_categorical_accuracy.*k must be"):
        m.TopKCategoricalAccuracy(k=0).update_state(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="Could not interpret metric identifier: 'aucc'"):
        m.get("aucc")
    with pytest.warns(UserWarning, match="weight as `float`"):
        m.MeanIoU(3).update_state([0, 1], [0, 1], sample_weight=[0.5, 1.0])


def test_compiled_metrics_save_and_load(tmp_path):
    x, y = _binary_problem()
    model = ek.Sequential([ek.layers.Input((4,)), ek.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["auc", ek.metrics.AUC(curve="PR", name="pr"),
                           ek.metrics.Precision(thresholds=[0.3, 0.6], name="p"),
                           ek.metrics.F1Score(average="macro", threshold=0.5),
                           ek.metrics.MeanIoU(2, name="iou")])
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "m.ember")
    loaded = ek.models.load_model(tmp_path / "m.ember")
    assert loaded.metrics_names == model.metrics_names == ["loss", "auc", "pr", "p", "f1_score",
                                                           "iou"]
    assert [m.get_config() for m in loaded._metrics] == [m.get_config() for m in model._metrics]
    ours, theirs = model.evaluate(x, y, verbose=0), loaded.evaluate(x, y, verbose=0)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b)


def test_serialize_deserialize_and_get_from_a_config():
    auc = ek.metrics.AUC(curve="PR", num_thresholds=20, name="pr")
    spec = ek.metrics.serialize(auc)
    assert spec["module"] == "keras.metrics" and spec["class_name"] == "AUC"
    for rebuilt in (ek.metrics.deserialize(spec), ek.metrics.get(spec)):
        assert type(rebuilt) is ek.metrics.AUC and rebuilt.get_config() == auc.get_config()
    with pytest.raises(ValueError, match="unknown metric 'Nope'"):
        ek.metrics.get({"class_name": "Nope", "config": {}})
