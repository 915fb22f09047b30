"""A pickle reader for dataset files that admits only the globals those files need (NumPy
arrays and dtypes), so a hostile file cannot name a function for pickle to run."""
import codecs
import pickle

import numpy as np

try:  # NumPy 2 moved numpy.core to numpy._core; old files still name numpy.core.
    from numpy._core.multiarray import _reconstruct
except ImportError:  # NumPy 1
    from numpy.core.multiarray import _reconstruct

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # Python 3 writes bytes at pickle protocol 2 as _codecs.encode(text, "latin1").
    ("_codecs", "encode"): codecs.encode,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, op, **kwargs):
        super().__init__(file, **kwargs)
        self._op = op

    def find_class(self, module, name):
        found = _ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"{self._op}: the file refers to {module}.{name}, which the dataset's files "
                "never hold; refusing to load it (unpickling it could run code)")
        return found


def load_restricted(path, op):
    """The object pickled in `path` (read with encoding="latin1", as Python 2 files need)."""
    with open(path, "rb") as file:
        try:
            return _RestrictedUnpickler(file, op, encoding="latin1").load()
        except pickle.UnpicklingError:
            raise
        except Exception as error:  # truncated or garbled: the message says which file
            raise pickle.UnpicklingError(f"{op}: cannot read {path}: {error}") from error
