"""Keras 3's own file formats behind keras.saving's save/load functions (saving.py chooses by
suffix): ``.keras`` zips (saving_keras_zip.py), ``.weights.h5`` files (keras_h5_weights.py) and
legacy ``.h5`` full models (saving_legacy_h5.py).

``helpers`` is saving.py's table of what the formats share with ember's own format: the model's
serialized spec, its compile configuration, and the rebuilding of models and compile settings
from configs, so that this module need not import saving.py.
"""
from __future__ import annotations

import io
import os

from . import keras_config_io, keras_h5_weights, saving_keras_zip, saving_legacy_h5
from . import metrics as metrics_module
from ..serialization import atomic_write

KERAS_SUFFIX, WEIGHTS_H5_SUFFIX = ".keras", ".weights.h5"
LEGACY_SUFFIXES = (".h5", ".hdf5")

# What Keras 3 writes in compile_config beside the optimizer, losses and metrics.
_COMPILE_DEFAULTS = {"run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def _walk(value, leaf):
    """``value`` (a loss or metric structure: lists and dicts keyed by output name) with
    ``leaf`` applied to each entry; a serialized object is an entry, not a dict to walk."""
    if isinstance(value, (list, tuple)):
        return [_walk(item, leaf) for item in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _walk(item, leaf) for key, item in value.items()}
    return leaf(value)


def _metric_leaf(metric, helpers):
    if metric is None or isinstance(metric, str):
        return metric  # (by name, as Keras writes it)
    return helpers.serialize_metric(metrics_module.get(metric))


def keras_compile_config(model, helpers):
    """Keras 3's compile_config: the optimizer, and the losses, loss weights and metrics as
    compile() was given them (per-output lists and dicts too), each entry serialized."""
    if not model.compiled:
        return None
    compile_loss = model._compile_loss
    config = {
        "optimizer": helpers.compile_config_optimizer(model),
        "loss": _walk(compile_loss.user_loss if compile_loss is not None else None,
                      helpers.serialize_loss),
        "loss_weights": compile_loss.user_loss_weights if compile_loss is not None else None,
        "metrics": _walk(model._compile_metrics.user_metrics,
                         lambda m: _metric_leaf(m, helpers)),
        "weighted_metrics": _walk(model._compile_metrics.user_weighted_metrics,
                                  lambda m: _metric_leaf(m, helpers))}
    return {**keras_config_io.to_keras(config), **_COMPILE_DEFAULTS}


def compile_model(model, config, helpers):
    """Compiles ``model`` from a Keras compile_config (already in ember's form)."""
    def entry(value, rebuild):
        return rebuild(value) if isinstance(value, dict) else value

    model.compile(
        optimizer=helpers.optimizer_from_config(config["optimizer"]),
        loss=_walk(config.get("loss"), lambda v: entry(v, helpers.loss_from_config)),
        loss_weights=config.get("loss_weights"),
        metrics=_walk(config.get("metrics"), lambda v: entry(v, helpers.metric_from_config)),
        weighted_metrics=_walk(config.get("weighted_metrics"),
                               lambda v: entry(v, helpers.metric_from_config)))


def build_model(config, path, helpers):
    """The architecture a Keras config (ember's form) describes, built (a subclassed model from
    its build_config), so its weights exist before the file's are read."""
    model = helpers.model_from_spec(config, path)
    if not model.built:
        shape = (config.get("build_config") or {}).get("input_shape")
        if shape is None:
            raise ValueError(f"{path}: the model is not built and the file records no input "
                             "shape for it (build_config), so its weights cannot be loaded")
        helpers.build_from_shape(model, shape, path, "load_model")
    return model


def save_model(model, path, overwrite, helpers):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: {path} exists and overwrite=False")
    helpers.check_serializable(model)
    spec = helpers.model_spec(model)
    compile_config = keras_compile_config(model, helpers)
    if path.endswith(KERAS_SUFFIX):
        saving_keras_zip.save(model, path, spec, compile_config)
    else:
        saving_legacy_h5.save(model, path, keras_config_io.model_config(model, spec),
                              compile_config)


def load_model(path, custom_objects, compile, safe_mode, helpers):
    if not os.path.isfile(path):
        raise ValueError(f"File not found: filepath={path}. Please ensure the file is an "
                         "accessible `.keras` zip file.")
    build = lambda config, source: build_model(config, source, helpers)  # noqa: E731
    compile_fn = lambda model, config: compile_model(model, config, helpers)  # noqa: E731
    if path.endswith(KERAS_SUFFIX):
        return saving_keras_zip.load(path, build, compile_fn, custom_objects, compile, safe_mode)
    return saving_legacy_h5.load(path, build, compile_fn, custom_objects, compile, safe_mode)


def save_weights(model, path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path} exists and overwrite=False")
    h5py = keras_h5_weights.h5py_module()
    if not model.built:
        raise ValueError("save_weights: the model has not been built, so it has no weights "
                         "yet. Build it with model.build(input_shape) or by calling it on data.")
    data = io.BytesIO()
    with h5py.File(data, "w") as root:
        keras_h5_weights.write(root, model, include_optimizer=True)
    atomic_write(path, data.getvalue())


def load_weights(model, path, helpers):
    """Weights from a ``.weights.h5`` file, a ``.keras`` zip or a legacy ``.h5`` file."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_weights: file not found: filepath={path}")
    if not model.built:
        raise ValueError(f"load_weights: the model is not built; Keras' files record no input "
                         f"shape for weights. Build the model before loading {path}.")
    if path.endswith(KERAS_SUFFIX):
        data = saving_keras_zip.read_weights_entry(path, model)
        with saving_keras_zip.open_h5_bytes(data, path) as root:
            keras_h5_weights.read_checked(root, model, path, include_optimizer=False)
        return
    if path.endswith(WEIGHTS_H5_SUFFIX):
        h5py = keras_h5_weights.h5py_module()
        try:
            root = h5py.File(path, "r")
        except Exception as e:  # h5py raises OSError, ValueError, ... on corrupt files
            raise ValueError(f"load_weights: {path} is not a readable HDF5 file ({e})") \
                from None
        with root:
            keras_h5_weights.read_checked(root, model, path, include_optimizer=False)
    else:
        saving_legacy_h5.load_weights(path, model)
