"""Keras 3's ``.keras`` files: a zip of ``metadata.json``, ``config.json`` (the model's
serialized config with its ``build_config`` and ``compile_config``) and ``model.weights.h5``
(keras_h5_weights.py), read and written by ember.

Reading is bounded and runs no code: the zip's entries are read only up to a limit (config.json
at most 64 MiB; the weights at most what the model described by the config can need), classes
come only from ember's own Keras classes, registration or ``custom_objects``, and a Lambda's
bytecode only with ``safe_mode=False`` (safe_mode.py). Any malformed content raises ValueError
naming the file.
"""
from __future__ import annotations

import datetime
import io
import json
import warnings
import zipfile
import zlib

import numpy as np

from . import keras_assets, keras_config_io, keras_h5_weights
from ..serialization import atomic_write
from .object_registration import custom_object_scope
from .safe_mode import SafeModeScope

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
KERAS_VERSION = "3.15.1"  # the Keras release whose format ember writes
_MAX_JSON = 64 << 20
_H5_OVERHEAD = 64 << 20  # HDF5 headers and groups beyond the arrays themselves


def metadata() -> dict:
    return {"keras_version": KERAS_VERSION,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}


def save(model, path: str, spec: dict, compile_config):
    """Writes ``model`` (serialized as ``spec``) to the ``.keras`` file ``path``, atomically."""
    h5py = keras_h5_weights.h5py_module()
    config = keras_config_io.model_config(model, spec)
    config["compile_config"] = compile_config
    assets = keras_assets.entries(model)
    weights = io.BytesIO()
    with h5py.File(weights, "w") as root:
        keras_h5_weights.write(root, model, include_optimizer=True)
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, json.dumps(metadata()))
        archive.writestr(CONFIG, json.dumps(config))
        archive.writestr(WEIGHTS, weights.getvalue())
        for name, content in assets.items():
            archive.writestr(name, content)
    atomic_write(path, data.getvalue())  # (a save killed midway leaves the old file whole)


def read_bounded(archive, name: str, limit: int, path: str) -> bytes:
    """The bytes of one zip entry, refusing (before reading them) more than ``limit``."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ValueError(f"{path} is not a valid .keras file: it has no {name}") from None
    if info.file_size > limit:
        raise ValueError(f"{path}: {name} declares {info.file_size} bytes, more than the "
                         f"{limit} this model can need")
    try:
        with archive.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError,
            NotImplementedError) as e:  # (corrupt, encrypted or unknown compression)
        raise ValueError(f"{path}: cannot read {name} from the zip ({e})") from None
    if len(data) > limit:
        raise ValueError(f"{path}: {name} holds more than the {limit} bytes this model can need")
    return data


def read_config(archive, path: str) -> dict:
    try:
        config = json.loads(read_bounded(archive, CONFIG, _MAX_JSON, path))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{path}: {CONFIG} is not valid JSON ({e})") from None
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str) \
            or not isinstance(config.get("config"), dict):
        raise ValueError(f"{path}: {CONFIG} does not describe a Keras model")
    return config


def weights_limit(model) -> int:
    """The most bytes a weights file of ``model`` can hold: each value in float64, with
    optimizer slots for each weight, plus HDF5's own overhead."""
    count = sum(int(np.prod(p.shape)) for p in model.parameters())
    return _H5_OVERHEAD + 8 * 4 * count


def open_h5_bytes(data: bytes, path: str):
    h5py = keras_h5_weights.h5py_module()
    try:
        return h5py.File(io.BytesIO(data), "r")
    except Exception as e:  # h5py raises OSError, ValueError, ... on corrupt files
        raise ValueError(f"{path}: the weights are not a readable HDF5 file ({e})") from None


def load(path: str, build_model, compile_model, custom_objects, compile: bool, safe_mode: bool):
    """The model in the ``.keras`` file ``path``; ``build_model(config, path)`` rebuilds an
    architecture from a config in ember's form, ``compile_model(model, compile_config)``
    compiles it (saving.py)."""
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ValueError(f"{path} is not a valid .keras file (a zip archive): {e}") from None
    with archive:
        config = read_config(archive, path)
        try:
            ember_config = keras_config_io.from_keras(config)
            with custom_object_scope(custom_objects), SafeModeScope(safe_mode):
                model = build_model(ember_config, path)
        except (KeyError, TypeError, AttributeError, IndexError, RecursionError) as e:
            raise ValueError(f"{path}: invalid model config ({type(e).__name__}: {e})") from None
        data = read_bounded(archive, WEIGHTS, weights_limit(model), path)
        names = set(archive.namelist())
        keras_assets.restore(model, lambda name: read_bounded(archive, name, _MAX_JSON, path)
                             if name in names else None, path)
    compile_config = ember_config.get("compile_config") if compile else None
    if compile_config:
        compile_from_keras(model, compile_model, compile_config, path)
    with open_h5_bytes(data, path) as root:
        keras_h5_weights.read_checked(root, model, path, include_optimizer=compile)
    return model


def read_weights_entry(path: str, model) -> bytes:
    """The ``model.weights.h5`` bytes of a ``.keras`` file, bounded by ``model``'s size."""
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ValueError(f"{path} is not a valid .keras file (a zip archive): {e}") from None
    with archive:
        return read_bounded(archive, WEIGHTS, weights_limit(model), path)


def compile_from_keras(model, compile_model, config, path: str):
    """Compiles ``model`` as Keras' ``compile_config`` says; as Keras, a configuration that
    cannot be rebuilt leaves the model uncompiled with a warning."""
    try:
        compile_model(model, config)
    except (NotImplementedError, ValueError, TypeError, KeyError) as e:
        warnings.warn(f"{path}: the model was loaded uncompiled; its compile configuration "
                      f"could not be rebuilt ({type(e).__name__}: {e})", stacklevel=4)
