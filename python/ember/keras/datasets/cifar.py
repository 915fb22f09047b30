"""Reading the CIFAR "python version" batch files safely (shared by cifar10 and cifar100).

The batches are pickled dicts. ``safe_pickle`` admits only NumPy's array reconstruction, and
the result must be a dict whose ``data`` is a uint8 (N, 3072) array and whose label list has N
integers in range, or ValueError names the file."""
from __future__ import annotations

import numbers

import numpy as np

from . import safe_pickle

# A CIFAR batch file is at most ~160 MB (cifar-100's train); refuse anything far larger.
_MAX_BYTES = 512 * 2**20


def load_batch(fpath, label_key="labels", num_classes=10, where="keras.datasets.cifar"):
    """``(data, labels)``: uint8 images ``(N, 3, 32, 32)`` and a list of N integer labels."""
    where = f"{where}: {fpath}"
    with open(fpath, "rb") as file:
        raw = file.read(_MAX_BYTES + 1)
    if len(raw) > _MAX_BYTES:
        raise ValueError(f"{where} is larger than {_MAX_BYTES} bytes; not a CIFAR batch")
    batch = safe_pickle.load(raw, where, encoding="bytes")
    if not isinstance(batch, dict) or not all(isinstance(k, (bytes, str)) for k in batch):
        raise ValueError(f"{where} does not hold a dict of named arrays")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get(label_key)
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{where}: 'data' must be a uint8 (N, 3072) array; got "
                         f"{getattr(data, 'dtype', type(data).__name__)} "
                         f"{getattr(data, 'shape', '')}")
    if not isinstance(labels, list) or len(labels) != len(data) or not all(
            isinstance(y, numbers.Integral) and 0 <= y < num_classes for y in labels):
        raise ValueError(f"{where}: {label_key!r} must be a list of {len(data)} integers in "
                         f"[0, {num_classes})")
    return data.reshape(data.shape[0], 3, 32, 32), labels
