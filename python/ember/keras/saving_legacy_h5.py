"""Legacy ``.h5`` full-model files, as Keras 2 / tf.keras and Keras 3's ``model.save("m.h5")``
write them: the file's attributes ``model_config`` (JSON) and ``training_config`` (compile
arguments with ``optimizer_config``), the group ``model_weights`` (attribute ``layer_names``;
one group per layer whose attribute ``weight_names`` lists its arrays in Keras' order) and
``optimizer_weights`` (Keras 3: iterations, learning rate, then the slots).

Loading goes layer by layer in order, as Keras does: the layers that hold weights in the model
and in the file must match in count and every array in shape (checked before it is read). Keras
2 configs name the input shape ``batch_input_shape``; ember reads it as Keras 3 does.
"""
from __future__ import annotations

import io
import json
import warnings

import numpy as np

import ember
from . import keras_config_io, keras_optimizer_vars
from .keras_h5_checksums import create_dataset
from .keras_h5_layout import layout as keras_layout
from .keras_h5_weights import checked_array, h5py_module, resolve
from .object_registration import custom_object_scope
from .safe_mode import SafeModeScope
from .saving_keras_zip import KERAS_VERSION, compile_from_keras
from ..serialization import atomic_write

_MAX_JSON = 64 << 20
_BACKEND = "torch"  # ember's arrays are laid out as Keras' torch backend lays them out


def _layer_weights(layer):
    """(owner, attribute, Parameter) of a layer and its sublayers, in Keras' order."""
    return [(owner, name, p) for owner in [layer] + layer._all_sublayers()
            for name, p in owner._own_weights()]


def _write_names(group, key: str, names: list):
    group.attrs[key] = [n.encode("utf8") for n in names]


def _read_names(group, key: str) -> list:
    """A list attribute; Keras splits long ones into ``key0``, ``key1``, ..."""
    if key in group.attrs:
        values = list(group.attrs[key])
    else:
        values, chunk = [], 0
        while f"{key}{chunk}" in group.attrs:
            values.extend(group.attrs[f"{key}{chunk}"])
            chunk += 1
    return [v.decode("utf8") if hasattr(v, "decode") else str(v) for v in values]


def save(model, path, config, compile_config):
    """Writes ``model`` as a legacy ``.h5`` file (atomically)."""
    h5py = h5py_module()
    if not model.built:
        raise ValueError("save: the model has not been built, so it has no weights yet.")
    data = io.BytesIO()
    with h5py.File(data, "w") as root:
        root.attrs["backend"] = _BACKEND
        root.attrs["keras_version"] = KERAS_VERSION
        root.attrs["model_config"] = json.dumps(
            {key: value for key, value in config.items() if key != "build_config"})
        weights = root.create_group("model_weights")
        weights.attrs["backend"], weights.attrs["keras_version"] = _BACKEND, KERAS_VERSION
        _write_names(weights, "layer_names", [layer.name for layer in model.layers])
        for layer in model.layers:
            group = weights.create_group(layer.name)
            names = [f"{model.name}/{layer.name}/{owner.name}/{attr}"
                     for owner, attr, _ in _layer_weights(layer)]
            _write_names(group, "weight_names", names)
            for name, (owner, attr, p) in zip(names, _layer_weights(layer)):
                create_dataset(group, name, owner._to_keras_layout(attr, p.detach().numpy()))
        _write_names(weights.create_group("top_level_model_weights"), "weight_names", [])
        if compile_config is not None:
            _write_training_config(root, model, compile_config)
    atomic_write(path, data.getvalue())


def _write_training_config(root, model, compile_config):
    training = {key: value for key, value in compile_config.items() if key != "optimizer"}
    optimizer = compile_config["optimizer"]
    training["optimizer_config"] = {"class_name": optimizer["class_name"],
                                    "config": optimizer["config"]}
    root.attrs["training_config"] = json.dumps(training)
    arrays = keras_optimizer_vars.to_keras(model, keras_layout(model))
    if arrays is not None:
        group = root.create_group("optimizer_weights")
        names = [f"{model.optimizer.name}/{i}" for i in range(len(arrays))]
        _write_names(group, "weight_names", names)
        for name, arr in zip(names, arrays):
            create_dataset(group, name, arr)


def _json_attribute(root, key: str, path: str):
    value = root.attrs.get(key)
    if value is None:
        return None
    if hasattr(value, "decode"):
        value = value.decode("utf8")
    if not isinstance(value, str) or len(value) > _MAX_JSON:
        raise ValueError(f"{path}: the attribute {key} is not a JSON string")
    try:
        return json.loads(value)
    except (json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{path}: the attribute {key} is not valid JSON ({e})") from None


def _keras2_config(value):
    """Keras 2's ``batch_input_shape`` as Keras 3 reads it (an InputLayer's batch_shape, any
    other layer's input_shape)."""
    if isinstance(value, list):
        return [_keras2_config(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {key: _keras2_config(item) for key, item in value.items()}
    config = out.get("config")
    if isinstance(config, dict) and isinstance(config.get("batch_input_shape"), list):
        shape = config.pop("batch_input_shape")
        if out.get("class_name") == "InputLayer":
            config["batch_shape"] = shape
        else:
            config["input_shape"] = shape[1:]
    return out


def load(path, build_model, compile_model, custom_objects, compile, safe_mode):
    """The model of a legacy ``.h5`` file."""
    with _open(path, "load_model") as root:
        try:
            return _load(root, path, build_model, compile_model, custom_objects, compile,
                         safe_mode)
        except (KeyError, TypeError, OSError, RuntimeError, AttributeError) as e:
            raise ValueError(f"{path}: corrupt legacy .h5 file ({type(e).__name__}: "
                             f"{e})") from None


def _load(root, path, build_model, compile_model, custom_objects, compile, safe_mode):
    config = _json_attribute(root, "model_config", path)
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(f"{path}: no model config found in the file (model_config)")
    try:
        with custom_object_scope(custom_objects), SafeModeScope(safe_mode):
            model = build_model(keras_config_io.from_keras(_keras2_config(config)), path)
    except (KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
        raise ValueError(f"{path}: invalid model config ({type(e).__name__}: {e})") from None
    weights = resolve(root, "model_weights", path)
    if weights is None:
        raise ValueError(f"{path}: the file has no model_weights group")
    read_weights(weights, model, path)
    training = _json_attribute(root, "training_config", path) if compile else None
    if isinstance(training, dict) and isinstance(training.get("optimizer_config"), dict):
        training = keras_config_io.from_keras(training)
        training["optimizer"] = training.pop("optimizer_config")
        compile_from_keras(model, compile_model, training, path)
        optimizer_weights = resolve(root, "optimizer_weights", path)
        if model.compiled and optimizer_weights is not None:
            _read_optimizer(optimizer_weights, model, path)
    return model


def _open(path, method):
    h5py = h5py_module()
    try:
        return h5py.File(path, "r")
    except Exception as e:  # h5py raises OSError, ValueError, ... on corrupt files
        raise ValueError(f"{method}: {path} is not a readable HDF5 file ({e})") from None


def _read_optimizer(group, model, path):
    lay = keras_layout(model)
    shapes = keras_optimizer_vars.expected_shapes(model, lay)
    names = _read_names(group, "weight_names")
    if shapes is None or len(names) != len(shapes):
        warnings.warn(f"{path}: skipping the optimizer state: the file has {len(names)} "
                      f"optimizer weights, ember's {type(model.optimizer).__name__} "
                      f"{'maps none' if shapes is None else f'has {len(shapes)}'}", stacklevel=4)
        return
    arrays = [checked_array(group, name, shape, path, "f" if i else "iuf")
              for i, (name, shape) in enumerate(zip(names, shapes))]
    keras_optimizer_vars.from_keras(model, lay, arrays)


def read_weights(group, model, path):
    """The weights of ``model_weights`` (a legacy file's group, or the root of a legacy
    weights-only ``.h5``) into ``model``, layer by layer in order."""
    layers = [layer for layer in model.layers if _layer_weights(layer)]
    groups = {name: resolve(group, name, path) for name in _read_names(group, "layer_names")}
    names = [name for name, found in groups.items()
             if found is not None and _read_names(found, "weight_names")]
    if len(names) != len(layers):
        raise ValueError(f"{path}: layer count mismatch: the model has {len(layers)} layers "
                         f"with weights, the file {len(names)}")
    assignments = []
    for layer, name in zip(layers, names):
        slots, weight_names = _layer_weights(layer), _read_names(groups[name], "weight_names")
        if len(weight_names) != len(slots):
            raise ValueError(f"{path}: layer '{layer.name}' has {len(slots)} weights; the "
                             f"file has {len(weight_names)} for '{name}'")
        for (owner, attr, p), weight_name in zip(slots, weight_names):
            arr = checked_array(groups[name], weight_name, owner._keras_shape(attr, p), path,
                                "iuf")
            assignments.append((owner, attr, p, arr))
    with ember.no_grad():
        for owner, attr, p, arr in assignments:
            p.copy_(ember.from_numpy(np.array(owner._from_keras_layout(attr, arr),
                                              dtype=p.dtype.numpy, order="C")))


def load_weights(path, model):
    """load_weights from a legacy ``.h5`` file (a full model's, or weights only)."""
    with _open(path, "load_weights") as root:
        try:
            weights = resolve(root, "model_weights", path)
            read_weights(root if weights is None else weights, model, path)
        except (KeyError, TypeError, OSError, RuntimeError, AttributeError) as e:
            raise ValueError(f"{path}: corrupt legacy .h5 file ({type(e).__name__}: "
                             f"{e})") from None
