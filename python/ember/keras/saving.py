"""keras.saving: saving and loading Keras-face models. The suffix chooses the format: Keras 3's
``.keras`` zips, ``.weights.h5`` and legacy ``.h5`` files (saving_keras_formats.py), or ember's
own, which holds the same content with ``ember.save`` (a safetensors file whose nesting is JSON:
no pickle, loading never runs code):

* ``model.save_weights("m.weights.ember")``: each layer's weights, in Keras order and layout.
* ``model.save("m.ember")``: the Sequential or functional config (each layer's class name and
  get_config, the InputLayer giving the input shape; a functional model's inbound nodes, see
  functional_config.py), the weights, the compile configuration (optimizer class and config,
  loss, metrics) and the optimizer's state, so training resumes identically.

Loading looks classes up by name among ember's own Keras layers, optimizers, losses and metrics;
nothing named in a file is ever imported. Anything malformed raises ValueError.
"""
from __future__ import annotations

import numbers
import os
import types

import numpy as np

import ember
from .._bounds import parameter_budget
from . import activations, initializers, layers, losses, metrics, optimizers
from . import keras_assets
from . import object_registration as registration
from .layers import call_context
from .layers.layer import Layer
from .object_registration import (CustomObjectScope, custom_object_scope,  # noqa: F401
                                  get_custom_objects, get_registered_name,
                                  get_registered_object, register_keras_serializable)
from .safe_mode import SafeModeScope
from . import saving_keras_formats as keras_formats

WEIGHTS_SUFFIX = ".weights.ember"
MODEL_SUFFIX = ".ember"
_WEIGHTS_FORMAT = "ember.keras.weights"
_MODEL_FORMAT = "ember.keras.model"
_VERSION = 1

# Built-in loss functions that compile() accepts as callables, saved by name.
_LOSS_FUNCTIONS = (losses.mean_squared_error, losses.mean_absolute_error, losses.huber,
                   losses.categorical_crossentropy, losses.sparse_categorical_crossentropy,
                   losses.binary_crossentropy)


# ---- registries: the only classes a file can name ---------------------------------------------
def _layer_classes() -> dict:
    found = {}
    for name in layers.__all__:
        obj = getattr(layers, name)
        if isinstance(obj, type) and issubclass(obj, Layer) and obj is not Layer:
            found[name] = obj
    return found


def _optimizer_classes() -> dict:
    return {cls.__name__: cls for cls in optimizers._BY_NAME.values()}


def _loss_classes() -> dict:
    return {cls.__name__: cls for cls in set(losses._BY_NAME.values())}


def _metric_classes() -> dict:
    return dict(metrics._CLASSES)


def _from_registry(spec, registry: dict, kind: str):
    """An object from {"class_name", "config"}, its class taken from ``registry`` only."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str) \
            or not isinstance(spec.get("config", {}), dict):
        raise ValueError(f"Invalid {kind} specification: {spec!r:.100}")
    name = spec["class_name"]
    cls = registry.get(name)
    if cls is None:
        raise ValueError(f"Unknown {kind} class: {name!r}. ember rebuilds only its own Keras "
                         f"{kind}s: {', '.join(sorted(registry))}")
    try:
        return cls.from_config(dict(spec.get("config", {})))
    except TypeError as e:
        raise ValueError(f"Invalid config for {kind} class {name}: {e}") from None


def serialize_layer(layer) -> dict:
    """Keras 3's form of a layer: module, class_name, config, registered_name (set for
    classes registered with register_keras_serializable)."""
    return registration.serialize_object(layer, "keras.layers",
                                         builtin=type(layer) in _layer_classes().values())


def deserialize_layer(spec, custom_objects=None) -> Layer:
    """A layer from ``{"class_name": ..., "config": ...}``: one of ember's own layer classes, or
    a class registered with register_keras_serializable, in a custom_object_scope or in
    ``custom_objects``."""
    if not isinstance(spec, dict) or not isinstance(spec.get("config", {}), dict):
        raise ValueError(f"Invalid layer specification: {spec!r:.100}")
    cls = registration.lookup_class(spec, _layer_classes(), "layer", custom_objects)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"{spec.get('class_name')!r} names {cls!r:.60}, which is not a "
                         "keras Layer class")
    try:
        return cls.from_config(dict(spec.get("config", {})))
    except TypeError as e:
        raise ValueError(f"Invalid config for layer class {spec.get('class_name')}: "
                         f"{e}") from None


# ---- file names --------------------------------------------------------------------------------
def _path(filepath, method: str) -> str:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{method}: filepath must be a path (str or os.PathLike). Received: "
                        f"{type(filepath).__name__}")
    return os.fspath(filepath)


def _reject_keras_formats(path: str, method: str, use: str):
    """Keras' own suffixes reach here only where Keras refuses them too (save_weights to a
    ``.keras`` or plain ``.h5`` name); the formats themselves went to saving_keras_formats.py."""
    if path.endswith((".h5", ".hdf5", ".keras")):
        raise ValueError(f"{method}: the filename must end in '{keras_formats.WEIGHTS_H5_SUFFIX}'"
                         f" (Keras' weights file) or '{use}'. Received: filepath={path}")


def _writable(filepath, method, suffix, overwrite) -> str:
    path = _path(filepath, method)
    _reject_keras_formats(path, method, suffix)
    if suffix == MODEL_SUFFIX and path.endswith(WEIGHTS_SUFFIX):
        raise ValueError(f"{method}: '{WEIGHTS_SUFFIX}' files hold weights only; use "
                         f"save_weights() for them, or the suffix '{MODEL_SUFFIX}' for the whole "
                         f"model. Received: filepath={path}")
    if not path.endswith(suffix):
        raise ValueError(f"{method}: the filename must end in '{suffix}'. Received: "
                         f"filepath={path}")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{method}: {path} exists and overwrite=False")
    return path


def _read(filepath, method: str, formats: tuple) -> tuple:
    """(path, dict) of an ember Keras file of one of ``formats``."""
    path = _path(filepath, method)
    use = WEIGHTS_SUFFIX if formats == (_WEIGHTS_FORMAT, _MODEL_FORMAT) else MODEL_SUFFIX
    _reject_keras_formats(path, method, use)
    if not path.endswith(MODEL_SUFFIX):
        raise ValueError(f"{method}: the filename must end in '{use}'. Received: "
                         f"filepath={path}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{method}: file not found: filepath={path}")
    data = ember.load(path)
    kind = data.get("format") if isinstance(data, dict) else None
    if kind not in formats:
        if kind == _WEIGHTS_FORMAT:
            raise ValueError(f"{method}: {path} holds weights only (written by save_weights); "
                             "load it with model.load_weights()")
        raise ValueError(f"{method}: {path} is not an ember Keras "
                         f"{'model' if use == MODEL_SUFFIX else 'weights'} file")
    if not isinstance(data.get("version"), int) or data["version"] > _VERSION:
        raise ValueError(f"{method}: {path} has format version {data.get('version')!r}; this "
                         f"ember reads version {_VERSION}")
    return path, data


# ---- weights -----------------------------------------------------------------------------------
def _weight_groups(model):
    """[(layer, [(owner, attribute, Parameter), ...])] for each layer holding weights, in Keras
    order (the model's own weights first, then each layer with its nested layers)."""
    groups = []
    own = [(model, n, p) for n, p in model._own_weights()]
    if own:
        groups.append((model, own))
    for layer in model.layers:
        slots = [(owner, n, p) for owner in [layer] + layer._all_sublayers()
                 for n, p in owner._own_weights()]
        if slots:
            groups.append((layer, slots))
    return groups


def _weights_payload(model, method: str) -> dict:
    if not model.built:
        raise ValueError(f"{method}: the model has not been built, so it has no weights yet. "
                         "Build it with model.build(input_shape) or by calling it on data.")
    entries = [{"name": layer.name, "class_name": type(layer).__name__,
                "weights": [np.array(owner._to_keras_layout(n, p.detach().numpy()))
                            for owner, n, p in slots]}
               for layer, slots in _weight_groups(model)]
    return {"input_shape": model._build_input_shape, "layers": entries}


def _check_input_shape(shape, path):
    if not isinstance(shape, (tuple, list)) or len(shape) < 2 or any(
            d is not None and (isinstance(d, bool) or not isinstance(d, int) or d <= 0)
            for d in shape):
        raise ValueError(f"{path} records an invalid input shape: {shape!r:.100}")
    return tuple(shape)


def _build_from_shape(model, shape, path, method):
    from .models import Sequential

    if shape is None:
        raise ValueError(f"{method}: the model is not built and {path} does not record its "
                         "input shape. Build the model first with model.build(input_shape) or "
                         "by calling it on data.")
    shape = _check_input_shape(shape, path)
    if isinstance(model, Sequential):
        model.build(shape)
        return
    was_training = model.training
    model.eval()
    try:
        with ember.no_grad(), call_context.inference():
            model(ember.zeros(1, *shape[1:]))
    finally:
        model.train(was_training)


def _set_weights(model, payload, path, method):
    """Checks the layer count and every shape against the file, then assigns all weights."""
    saved = payload["layers"]
    if not isinstance(saved, list):
        raise ValueError(f"{method}: {path} has an invalid weights structure")
    if not model.built:
        _build_from_shape(model, payload.get("input_shape"), path, method)
    groups = _weight_groups(model)
    if len(groups) != len(saved):
        raise ValueError(
            f"{method}: layer count mismatch. The model has {len(groups)} layers with weights "
            f"({', '.join(layer.name for layer, _ in groups)}); {path} has {len(saved)} "
            f"({', '.join(str(entry.get('name')) for entry in saved)}).")
    assignments = []
    for (layer, slots), entry in zip(groups, saved):
        arrays = entry["weights"]
        if not isinstance(arrays, list) or len(arrays) != len(slots):
            raise ValueError(f"{method}: layer '{layer.name}' ({type(layer).__name__}) has "
                             f"{len(slots)} weights; {path} has {len(arrays)} for it "
                             f"(saved layer '{entry.get('name')}')")
        for i, ((owner, n, p), arr) in enumerate(zip(slots, arrays)):
            if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
                raise ValueError(f"{method}: {path} holds no float array for weight {i} of "
                                 f"layer '{layer.name}'")
            expected = owner._keras_shape(n, p)
            if tuple(arr.shape) != expected:
                raise ember.ShapeError(
                    f"{method}: shape mismatch in layer '{layer.name}' "
                    f"({type(layer).__name__}), weight {i} ({n}): the model expects shape "
                    f"{expected}, {path} has shape {tuple(arr.shape)}")
            assignments.append((p, owner._from_keras_layout(n, arr)))
    with ember.no_grad():
        for p, arr in assignments:
            p.copy_(ember.from_numpy(np.array(arr, dtype=p.dtype.numpy, order="C")))  # (0-d too)


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Writes all of ``model``'s weights (Keras order and layout) to a ``.weights.ember``
    file."""
    if max_shard_size is not None:
        raise NotImplementedError("save_weights: max_shard_size (sharded weights) is not "
                                  "supported by ember")
    if _path(filepath, "save_weights").endswith(keras_formats.WEIGHTS_H5_SUFFIX):
        return keras_formats.save_weights(model, os.fspath(filepath), overwrite)
    path = _writable(filepath, "save_weights", WEIGHTS_SUFFIX, overwrite)
    payload = _weights_payload(model, "save_weights")
    ember.save({"format": _WEIGHTS_FORMAT, "version": _VERSION, **payload}, path)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads weights from a ``.weights.ember`` (or whole-model ``.ember``) file into ``model``,
    building an unbuilt model from the saved input shape."""
    if skip_mismatch:
        raise NotImplementedError("load_weights: skip_mismatch=True is not supported by ember")
    if kwargs:
        raise TypeError(f"load_weights: unrecognized keyword arguments: {sorted(kwargs)}")
    if _path(filepath, "load_weights").endswith(_KERAS_FILES):
        return keras_formats.load_weights(model, os.fspath(filepath), _HELPERS)
    path, data = _read(filepath, "load_weights", (_WEIGHTS_FORMAT, _MODEL_FORMAT))
    payload = data if data["format"] == _WEIGHTS_FORMAT else data.get("weights")
    try:
        _set_weights(model, payload, path, "load_weights")
    except (KeyError, TypeError, AttributeError, IndexError) as e:
        raise ValueError(f"load_weights: {path} has an invalid structure "
                         f"({type(e).__name__}: {e})") from None


# ---- compile configuration and optimizer state -------------------------------------------------
def _serialize_loss(model):
    if model._loss_obj is None:
        return None
    return _serialize_loss_leaf(model.loss if isinstance(model.loss, str) else model._loss_obj)


def _serialize_loss_leaf(loss):
    """One loss of a compile configuration: a name, a built-in Loss or loss function."""
    if loss is None or isinstance(loss, str):
        return loss
    loss = losses.get(loss)
    if type(loss) in _loss_classes().values():
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    if isinstance(loss, losses.LossFunctionWrapper) and loss.fn in _LOSS_FUNCTIONS \
            and not loss.fn_kwargs:
        return loss.fn.__name__
    raise NotImplementedError(f"save: the loss {loss!r} is not one of ember's built-in "
                              "losses and cannot be saved. Compile with a built-in loss (name or "
                              "class), or use save_weights.")


def _serialize_metric(metric):
    if isinstance(metric, metrics._ResolvedAccuracy):
        return metric.name
    if type(metric) in _metric_classes().values():
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    raise NotImplementedError(f"save: the metric {metric!r} is not one of ember's built-in "
                              "metrics and cannot be saved. Use a built-in metric (name or "
                              "class), or use save_weights.")


def _compile_config(model):
    if not model.compiled:
        return None
    if not model._saveable_compile:
        raise NotImplementedError("save: ember stores a compile configuration of one loss and a "
                                  "flat list of metrics; this model's (per-output losses or "
                                  "metrics, loss_weights or weighted_metrics) cannot be saved. "
                                  "Use save_weights.")
    return {"optimizer": _serialize_optimizer(model), "loss": _serialize_loss(model),
            "metrics": [_serialize_metric(m) for m in model._metrics]}


def _serialize_optimizer(model):
    opt = model.optimizer
    if type(opt) not in _optimizer_classes().values():
        raise NotImplementedError(f"save: the optimizer {type(opt).__name__} is not one of "
                                  "ember's built-in Keras optimizers and cannot be saved")
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


def _optimizer_state(model):
    opt = model.optimizer
    if not model.compiled or not opt.built:
        return None
    if opt._param_ids != tuple(map(id, model.parameters())):
        return None  # built for other variables: it could not continue on this model anyway
    return {"iterations": opt.iterations, "state_dict": opt._inner.state_dict()}


def _compile_from_config(model, config):
    optimizer = _from_registry(config["optimizer"], _optimizer_classes(), "optimizer")
    loss = config["loss"]
    if isinstance(loss, dict):
        loss = _from_registry(loss, _loss_classes(), "loss")
    elif loss is not None and not isinstance(loss, str):
        raise ValueError(f"Invalid loss specification: {loss!r:.100}")
    found = []
    for spec in config["metrics"]:
        if isinstance(spec, str):
            found.append(spec)  # resolved by metrics.get among ember's own metrics
        else:
            found.append(_from_registry(spec, _metric_classes(), "metric"))
    model.compile(optimizer=optimizer, loss=loss, metrics=found)


def _same_kind(saved, fresh) -> bool:
    if isinstance(fresh, bool) or fresh is None:
        return saved is fresh or saved == fresh
    if isinstance(fresh, numbers.Real):
        return isinstance(saved, numbers.Real) and not isinstance(saved, bool)
    if isinstance(fresh, tuple):
        return isinstance(saved, tuple) and len(saved) == len(fresh) and all(
            _same_kind(s, f) for s, f in zip(saved, fresh))
    return type(saved) is type(fresh)


def _restore_optimizer(model, saved, path):
    """Builds the compiled optimizer on the model's parameters and loads the saved state,
    after checking it is an optimizer state for exactly these parameters."""
    opt = model.optimizer
    params = list(model.parameters())
    opt.build(params)
    state_dict = saved["state_dict"]
    fresh_groups = opt._inner.param_groups
    groups = state_dict["param_groups"]
    if not isinstance(groups, list) or len(groups) != len(fresh_groups) or any(
            not isinstance(g, dict) or set(g) != set(f) or not all(
                _same_kind(g[k], f[k]) for k in f if k != "params")
            for g, f in zip(groups, fresh_groups)):
        raise ValueError(f"load_model: {path} holds an optimizer state that does not fit "
                         f"{type(opt).__name__}")
    for index, entry in state_dict["state"].items():
        if isinstance(index, bool) or not isinstance(index, int) \
                or not 0 <= index < len(params) or not isinstance(entry, dict):
            raise ValueError(f"load_model: {path} holds optimizer state for an unknown "
                             f"variable {index!r:.40}")
        for name, value in entry.items():
            expected = () if name == "step" else tuple(params[index].shape)
            if not isinstance(value, ember.Tensor) or tuple(value.shape) != expected:
                raise ember.ShapeError(
                    f"load_model: optimizer state '{name}' of variable {index} in {path} has "
                    f"shape {tuple(getattr(value, 'shape', ()))}; expected {expected}")
    opt._inner.load_state_dict(state_dict)
    iterations = saved["iterations"]
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
        raise ValueError(f"load_model: {path} holds an invalid iteration count")
    opt.iterations = iterations


# ---- whole models ------------------------------------------------------------------------------
def _check_serializable(model):
    """Custom callables have no name a file could safely refer to: refuse them at save time."""
    for layer in model.layers:
        for owner in [layer] + layer._all_sublayers():
            act = getattr(owner, "activation", None)
            if act is not None and activations._BY_NAME.get(activations.serialize(act)) \
                    is not act:
                raise NotImplementedError(
                    f"save: layer '{owner.name}' uses the custom activation "
                    f"{activations.serialize(act)!r}, which ember cannot serialize. Use a "
                    f"built-in activation name ({', '.join(sorted(activations._BY_NAME))}), "
                    "or save_weights() and rebuild the model in code.")
            for attr in ("kernel_initializer", "bias_initializer", "recurrent_initializer",
                         "embeddings_initializer", "alpha_initializer"):
                init = getattr(owner, attr, None)
                if init is not None and not (
                        isinstance(init, initializers.Initializer)
                        and initializers._BY_NAME.get(type(init).__name__) is type(init)):
                    raise NotImplementedError(
                        f"save: layer '{owner.name}' has a custom {attr} ({init!r:.60}), "
                        "which ember cannot serialize. Use a built-in initializer, or "
                        "save_weights() and rebuild the model in code.")


def _check_no_adapted_vocabulary(model):
    """The .ember format keeps configs and weights; an adapted vocabulary is neither."""
    for layer in model.layers:
        for owner in [layer] + layer._all_sublayers():
            if keras_assets.adapted_vocabulary(owner):
                raise NotImplementedError(
                    f"save: layer '{owner.name}' has an adapted vocabulary, which the .ember "
                    "format does not store; save the model as a .keras file, which keeps it")


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Writes ``model`` to a ``.ember`` file: architecture (a Sequential's or functional model's
    layers, or a subclassed Model's class name and get_config), weights, compile configuration
    and optimizer state. Loading a subclassed Model needs its class registered or passed."""
    if kwargs:
        raise TypeError(f"save: unrecognized keyword arguments: {sorted(kwargs)}")
    if _path(filepath, "save").endswith(_KERAS_FILES):
        if zipped is False:
            raise NotImplementedError("save: zipped=False (an unzipped .keras directory) is "
                                      "not supported by ember")
        return keras_formats.save_model(model, os.fspath(filepath), overwrite, _HELPERS)
    if zipped:
        raise NotImplementedError("save: zipped=True is not supported; ember writes one "
                                  "safetensors file")
    path = _writable(filepath, "save", MODEL_SUFFIX, overwrite)
    _check_serializable(model)
    _check_no_adapted_vocabulary(model)
    spec = _model_spec(model)
    ember.save({"format": _MODEL_FORMAT, "version": _VERSION, **spec,
                "compile_config": _compile_config(model),
                "weights": _weights_payload(model, "save"),
                "optimizer": _optimizer_state(model)}, path)


def _model_from_spec(data, path):
    """The (unbuilt) model a file's class_name/config describe: a Sequential or functional model
    of known layers, or a subclassed Model whose class is registered or given in custom_objects."""
    from .models import Functional, Model, Sequential

    config = data["config"]
    builtin = {"Sequential": Sequential, "Functional": Functional}.get(data["class_name"])
    if builtin is not None and data.get("registered_name") is None:
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(f"load_model: {path} has an invalid model config")
        return builtin.from_config(config)
    try:
        cls = registration.lookup_class(data, {}, "model")
    except ValueError:
        raise ValueError(f"load_model: unknown model class {data['class_name']!r:.60}; ember "
                         "rebuilds Sequential models and subclassed Models whose class is "
                         "registered with keras.saving.register_keras_serializable or passed "
                         "in custom_objects") from None
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise ValueError(f"load_model: {data['class_name']!r:.60} names {cls!r:.60}, which is "
                         "not a keras Model class")
    if not isinstance(config, dict):
        raise ValueError(f"load_model: {path} has an invalid model config")
    try:
        return cls.from_config(dict(config))
    except TypeError as e:
        raise ValueError(f"load_model: unable to revive {cls.__name__} from its config "
                         f"{sorted(config)}: {e}. Its get_config() must return every argument "
                         "its __init__ needs (and __init__ should pass **kwargs such as name "
                         "and trainable on to super().__init__).") from None


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuilds a model saved by ``model.save`` (weights, and with ``compile=True`` the compile
    configuration and optimizer state). Loading is safe: no code from the file runs, unless
    ``safe_mode=False`` lets Lambda layers load their Python lambdas (bytecode); classes that
    are not ember's own come only from registration or ``custom_objects``."""
    if _path(filepath, "load_model").endswith(_KERAS_FILES):
        return keras_formats.load_model(os.fspath(filepath), custom_objects, compile, safe_mode,
                                        _HELPERS)
    path, data = _read(filepath, "load_model", (_MODEL_FORMAT,))
    try:
        # The layers the config describes may hold no more than the file's weights (float64
        # layers store float64 arrays), plus room for small weights kept outside the file.
        budget = parameter_budget("load_model", path, 2 * os.path.getsize(path) + (1 << 20))
        # (nested configs find custom objects too; a Lambda's bytecode loads only if
        # safe_mode=False)
        with budget, custom_object_scope(custom_objects), SafeModeScope(safe_mode):
            model = _model_from_spec(data, path)
            _set_weights(model, data["weights"], path, "load_model")
        if compile and data["compile_config"] is not None:
            _compile_from_config(model, data["compile_config"])
            if data["optimizer"] is not None:
                _restore_optimizer(model, data["optimizer"], path)
    except (KeyError, TypeError, AttributeError, IndexError) as e:
        raise ValueError(f"load_model: {path} has an invalid structure "
                         f"({type(e).__name__}: {e})") from None
    return model


def _model_spec(model) -> dict:
    from .models import Functional, Sequential

    if type(model) not in (Sequential, Functional):
        return serialize_layer(model)
    return {"class_name": type(model).__name__, "config": model.get_config()}


# What the Keras formats (saving_keras_formats.py) share with ember's own.
_KERAS_FILES = (keras_formats.KERAS_SUFFIX,) + keras_formats.LEGACY_SUFFIXES
_HELPERS = types.SimpleNamespace(
    compile_config_optimizer=_serialize_optimizer,
    serialize_loss=_serialize_loss_leaf, serialize_metric=_serialize_metric,
    loss_from_config=lambda spec: _from_registry(spec, _loss_classes(), "loss"),
    metric_from_config=lambda spec: _from_registry(spec, _metric_classes(), "metric"),
    optimizer_from_config=lambda spec: _from_registry(spec, _optimizer_classes(), "optimizer"),
    model_from_spec=_model_from_spec, build_from_shape=_build_from_shape,
    check_serializable=_check_serializable, model_spec=_model_spec)
