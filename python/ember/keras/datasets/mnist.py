"""keras.datasets.mnist.load_data: reads Keras' cached ``mnist.npz`` (ember cannot download).

Keras keeps the file at ``$KERAS_HOME/datasets/mnist.npz`` (``~/.keras/datasets`` when
KERAS_HOME is unset); a relative ``path`` is looked up there and an absolute one used as is,
as ``keras.utils.get_file`` does. Every array's header is checked (dtype, shape, size within
the archive) before its data are read, so a damaged or hostile file raises ValueError.
"""
from __future__ import annotations

import math
import os
import zipfile

import numpy as np

_KEYS = ("x_train", "y_train", "x_test", "y_test")
_NUM_CLASSES = 10


def load_data(path="mnist.npz"):
    """Returns ``((x_train, y_train), (x_test, y_test))``: uint8 images ``(N, 28, 28)`` and
    uint8 labels ``(N,)``, as Keras does."""
    file = _resolve(path)
    if not os.path.isfile(file):
        raise FileNotFoundError(
            f"keras.datasets.mnist.load_data: {file} not found. ember cannot download "
            "datasets: copy Keras' mnist.npz (from https://storage.googleapis.com/"
            "tensorflow/tf-keras-datasets/mnist.npz, or an existing ~/.keras/datasets) to "
            f"{file}, or pass its absolute path. To read the four raw IDX files instead, use "
            "ember.datasets.load_mnist(folder).")
    headers = _check_headers(file)
    try:
        with np.load(file, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in _KEYS}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise ValueError(f"keras.datasets.mnist.load_data: cannot read {file}: {error}") \
            from error
    for key, (shape, dtype) in headers.items():  # what was read is what the headers promised
        if arrays[key].shape != shape or arrays[key].dtype != dtype:
            raise ValueError(f"keras.datasets.mnist.load_data: {file}: {key} does not match "
                             "its header")
    for split in ("train", "test"):
        labels = arrays[f"y_{split}"]
        if labels.size and labels.max() >= _NUM_CLASSES:
            position = int(np.argmax(labels >= _NUM_CLASSES))
            raise ValueError(
                f"keras.datasets.mnist.load_data: {file}: y_{split} holds label "
                f"{int(labels[position])} at position {position}; MNIST labels are "
                f"0..{_NUM_CLASSES - 1}")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _resolve(path):
    path = os.fspath(path)
    if os.path.isabs(path):
        return path
    keras_home = os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")
    return os.path.join(os.path.expanduser(keras_home), "datasets", path)


def _check_headers(file):
    """Checks the keys, dtypes and shapes from the .npy headers without reading any data."""
    where = f"keras.datasets.mnist.load_data: {file}"
    try:
        with zipfile.ZipFile(file) as archive:
            members = {info.filename: info for info in archive.infolist()}
            missing = [key for key in _KEYS if key + ".npy" not in members]
            if missing:
                raise ValueError(
                    f"{where} lacks {', '.join(missing)}; an MNIST archive holds "
                    f"{', '.join(_KEYS)} (found: {', '.join(sorted(members)) or 'nothing'})")
            headers = {}
            for key in _KEYS:
                info = members[key + ".npy"]
                with archive.open(info) as member:
                    shape, dtype, header_size = _read_npy_header(member, f"{where}: {key}")
                if dtype != np.uint8:
                    raise ValueError(f"{where}: {key} has dtype {dtype}, expected uint8")
                claimed = header_size + math.prod(shape) * dtype.itemsize
                if claimed != info.file_size:
                    raise ValueError(
                        f"{where}: {key}'s header promises {claimed} bytes but the archive "
                        f"member holds {info.file_size} bytes (damaged or hostile file)")
                headers[key] = (tuple(shape), dtype)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{where} is not a readable .npz archive: {error}") from error
    _check_shapes(headers, where)
    return headers


def _read_npy_header(member, where):
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except ValueError as error:
        raise ValueError(f"{where} is not a valid .npy array: {error}") from error
    return shape, dtype, member.tell()


def _check_shapes(headers, where):
    for split in ("train", "test"):
        x_shape, _ = headers[f"x_{split}"]
        y_shape, _ = headers[f"y_{split}"]
        if len(x_shape) != 3 or len(y_shape) != 1 or x_shape[0] != y_shape[0]:
            raise ValueError(
                f"{where}: x_{split} has shape {x_shape} and y_{split} {y_shape}; expected "
                "(N, rows, cols) images and (N,) labels")
    if headers["x_train"][0][1:] != headers["x_test"][0][1:]:
        raise ValueError(f"{where}: training images are {headers['x_train'][0][1:]} but test "
                         f"images are {headers['x_test'][0][1:]}")
