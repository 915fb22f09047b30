"""MNIST from the four IDX files Yann LeCun's site distributes (raw or gzipped).

IDX layout: a 4-byte big-endian magic number (0x0000, the type byte 0x08 for unsigned bytes,
then the number of dimensions), one big-endian uint32 per dimension, then the bytes. The
headers are checked against the data actually present before anything is allocated from them,
so a truncated, oversized or hostile file raises ValueError instead of exhausting memory.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_IMAGES_MAGIC, _LABELS_MAGIC = 0x00000803, 0x00000801
_CHUNK = 1 << 20
_NUM_CLASSES = 10


def load_mnist(path):
    """Reads MNIST from the folder ``path``; returns ``((x_train, y_train), (x_test, y_test))``.

    Like ``keras.datasets.mnist.load_data()``: ``x`` is ``uint8`` of shape ``(N, rows, cols)``
    (``(60000, 28, 28)`` and ``(10000, 28, 28)`` for MNIST), ``y`` is ``uint8`` of shape
    ``(N,)`` with labels 0..9. Each file may be raw or gzipped (name + ``.gz``).
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"load_mnist: {str(folder)!r} is not a folder; pass the folder "
                                "holding the four MNIST IDX files")
    files = {key: _find(folder, name) for key, name in _FILES.items()}
    x_train = read_idx(files["train_images"], "images")
    y_train = read_idx(files["train_labels"], "labels")
    x_test = read_idx(files["test_images"], "images")
    y_test = read_idx(files["test_labels"], "labels")
    for images, labels, image_file, label_file in (
            (x_train, y_train, files["train_images"], files["train_labels"]),
            (x_test, y_test, files["test_images"], files["test_labels"])):
        if len(images) != len(labels):
            raise ValueError(f"load_mnist: {image_file.name} holds {len(images)} images but "
                             f"{label_file.name} holds {len(labels)} labels")
        _check_labels(labels, label_file)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise ValueError(f"load_mnist: training images are {x_train.shape[1:]} but test images "
                         f"are {x_test.shape[1:]}")
    return (x_train, y_train), (x_test, y_test)


def _find(folder, name):
    candidates = [folder / name, folder / (name + ".gz")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    missing = [_status_line(folder, n) for n in _FILES.values()]
    raise FileNotFoundError(
        f"load_mnist: cannot find {name} or {name}.gz in {str(folder)!r}. The folder must hold "
        "the four MNIST files, each raw or gzipped:\n" + "\n".join(missing))


def _status_line(folder, name):
    found = (folder / name).is_file() or (folder / (name + ".gz")).is_file()
    return f"  {name}[.gz]  ({'found' if found else 'missing'})"


def read_idx(file, kind, op="load_mnist"):
    """The uint8 array in one MNIST IDX file (raw or ``.gz``): ``kind`` is "images" (N, rows,
    cols) or "labels" (N,); errors name ``op``, the reader's caller."""
    magic = {"images": _IMAGES_MAGIC, "labels": _LABELS_MAGIC}[kind]
    file = Path(file)
    ndim = magic & 0xFF
    opener = gzip.open if file.suffix == ".gz" else open
    where = f"{file.name} (decompressed)" if file.suffix == ".gz" else file.name
    try:
        with opener(file, "rb") as stream:
            head = _read_at_most(stream, 4)
            if len(head) < 4:
                raise ValueError(f"{op}: {where} holds {len(head)} bytes, too short for "
                                 "an IDX header (truncated file?)")
            found = struct.unpack(">I", head)[0]
            if found >> 8 != magic >> 8:
                raise ValueError(
                    f"{op}: {where} is not an IDX file of unsigned bytes: magic number "
                    f"0x{found:08X}, expected 0x{magic:08X}")
            if found != magic:
                raise ValueError(
                    f"{op}: {where} has {found & 0xFF} dimensions (magic 0x{found:08X}), "
                    f"expected {ndim} (magic 0x{magic:08X})")
            dims_bytes = _read_at_most(stream, 4 * ndim)
            header_size = 4 + 4 * ndim
            if len(dims_bytes) < 4 * ndim:
                raise ValueError(
                    f"{op}: {where} is truncated: expected a {header_size}-byte header, "
                    f"the file holds {4 + len(dims_bytes)} bytes")
            dims = struct.unpack(f">{ndim}I", dims_bytes)
            if ndim == 3 and (dims[1] == 0 or dims[2] == 0):
                raise ValueError(f"{op}: {where} declares images of {dims[1]}x{dims[2]} "
                                 "pixels")
            expected = math.prod(dims)  # a Python int: no overflow, nothing allocated yet
            data = _read_at_most(stream, expected + 1)
            if len(data) != expected:
                actual = header_size + len(data) + _count_rest(stream)
                problem = "truncated" if len(data) < expected else "longer than its header says"
                raise ValueError(
                    f"{op}: {where} is {problem}: its header {dims} promises "
                    f"{header_size + expected} bytes, the file holds {actual} bytes")
    except (OSError, EOFError, zlib.error) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{op}: cannot read {file.name}: {error}") from error
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def _read_at_most(stream, limit):
    """Up to ``limit`` bytes, read in chunks so memory follows the data, not the request."""
    buffer = bytearray()
    while len(buffer) < limit:
        chunk = stream.read(min(_CHUNK, limit - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def _count_rest(stream):
    total = 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
    return total


def _check_labels(labels, file):
    if labels.size and labels.max() >= _NUM_CLASSES:
        position = int(np.argmax(labels >= _NUM_CLASSES))
        raise ValueError(f"load_mnist: {file.name} holds label {int(labels[position])} at "
                         f"position {position}; MNIST labels are 0..{_NUM_CLASSES - 1}")
