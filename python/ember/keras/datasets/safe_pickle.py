"""Unpickling Keras' dataset files without running code.

CIFAR batches are Python pickles and the IMDB/Reuters archives hold object arrays, which NumPy
stores as pickles. A pickle can name any importable callable, so ``load`` allows exactly the
globals those files use (``numpy.ndarray``, ``numpy.dtype`` and NumPy's array reconstructor,
under both its NumPy 1 and 2 module names) and refuses every other one; the lists, dicts,
bytes and ints around them need no globals. The pickle is read from bytes already in memory,
so a length field that lies cannot make the reader allocate more than the file holds.
"""
from __future__ import annotations

import io
import pickle

import numpy as np

_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's _reconstruct, warning-free
_ALLOWED = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a Keras dataset file only holds NumPy "
                "arrays, lists and numbers (the file is damaged or malicious)") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing a pickle with persistent ids")


def load(data, where, encoding="ASCII"):
    """The object pickled in ``data`` (bytes), or ValueError naming ``where``."""
    try:
        return _RestrictedUnpickler(io.BytesIO(data), encoding=encoding).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, OverflowError, MemoryError, UnicodeDecodeError) as error:
        raise ValueError(f"{where}: cannot read it safely: {error}") from error
