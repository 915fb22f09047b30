"""The DataLoader's fast path: gather a whole batch of a TensorDataset with one index array.

Stacking ``batch_size`` sample tensors costs a Python round trip per sample; indexing each
underlying array with the batch's indices does the same work in one NumPy call. The result
equals what default_collate makes of the samples (a list of stacked tensors, same dtypes).
"""
from __future__ import annotations

import numpy as np

from ...tensor import Tensor
from .dataset import Subset, TensorDataset


def _as_index_array(indices):
    array = indices._array if isinstance(indices, Tensor) else np.asarray(indices)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        return None
    return array


def tensor_gather_plan(dataset):
    """A function ``indices -> batch`` when ``dataset`` is a TensorDataset, possibly seen
    through Subsets (what random_split returns); None when the generic path must run.

    Only the exact classes qualify: a subclass may have changed what a sample is.
    """
    index_maps = []
    while type(dataset) is Subset:
        index_map = _as_index_array(dataset.indices)
        if index_map is None:
            return None
        index_maps.append(index_map)
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    if any(t.requires_grad for t in dataset.tensors):
        return None  # stacking keeps the autograd graph; a raw gather would drop it
    arrays = [t._array for t in dataset.tensors]

    def gather(indices):
        index = _as_index_array(indices)
        if index is None or index.size == 0:
            return None
        for index_map in index_maps:  # outermost Subset first
            index = index_map[index]
        return [Tensor._from_op(array[index], None) for array in arrays]

    return gather
