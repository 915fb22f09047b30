"""keras.utils.timeseries_dataset_from_array: sliding windows over an array, as NumPy batches
(a SampleDataset) with Keras 3's arguments, checks and window/target arithmetic."""
from __future__ import annotations

import numpy as np

from .utils_dataset import SampleDataset
from .utils_directory import check_format


def _check(data, start_index, end_index, sampling_rate, sequence_stride, sequence_length):
    length = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= length:
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {length}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= length:
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {length}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: "
                             f"end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= length:
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: "
                             f"{name}={value}, for data of length {length}")
    if not isinstance(sequence_length, (int, np.integer)) or sequence_length <= 0:
        raise ValueError(f"`sequence_length` must be a positive integer. Received: "
                         f"sequence_length={sequence_length!r}")


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Windows ``data[p : p + sequence_length * sampling_rate : sampling_rate]`` starting every
    ``sequence_stride`` steps from ``start_index`` (inclusive) to ``end_index`` (exclusive);
    window ``p`` is paired with ``targets[start_index + p]``. Batches are ``(windows,
    targets)``, or windows alone when ``targets`` is None."""
    _check(data, start_index, end_index, sampling_rate, sequence_stride, sequence_length)
    check_format("timeseries_dataset_from_array", format)
    start_index = start_index or 0
    end_index = len(data) if end_index is None else end_index
    data = np.asarray(data)[start_index:end_index]
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)[start_index:end_index]
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(starts)
    offsets = np.arange(sequence_length) * sampling_rate

    def window(i):
        return data[starts[i] + offsets]

    return SampleDataset(len(starts), window,
                         None if targets is None else targets[starts],
                         batch_size=batch_size, shuffle=shuffle, seed=seed)
