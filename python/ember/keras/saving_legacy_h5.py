"""Legacy ``.h5`` full-model files (Keras 2 / tf.keras ``model.save("m.h5")``, which Keras 3
still writes and reads): placeholder until implemented."""
from __future__ import annotations


def save(model, path, config, compile_config):
    raise NotImplementedError("save: legacy .h5 files are not supported by ember yet")


def load(path, build_model, compile_model, custom_objects, compile, safe_mode):
    raise NotImplementedError("load_model: legacy .h5 files are not supported by ember yet")


def read_weights(root, model, path):
    raise NotImplementedError("load_weights: legacy .h5 files are not supported by ember yet")
