"""Variable-length sequences: padding and packing, with PyTorch's torch.nn.utils.rnn names,
arguments and PackedSequence fields.

A PackedSequence holds the steps of a batch of sequences sorted by decreasing length, time-major:
``data`` (sum of lengths, *) has first every sequence's step 0, then step 1 of those at least 2
long, and so on; ``batch_sizes[t]`` says how many sequences have a step t. ``sorted_indices``
maps the sorted order back to the caller's batch (None when the caller's batch was sorted).

Every conversion here is one gather (advanced indexing) from the source tensor, with a row of
padding_value appended where padding is needed, so gradients flow through existing ops.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ... import _core, dtypes
from ...functions import cat
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


def _long(array) -> Tensor:
    return Tensor._from_op(np.asarray(array, dtype=np.int64), None)


def _int_array(values, op, name) -> np.ndarray:
    arr = values._array if isinstance(values, Tensor) else np.asarray(values)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{op}: {name} must be a 1-D sequence of integers, got "
                         f"{arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedSequenceFields):
    """The packed steps of a batch of sequences (made by pack_padded_sequence or pack_sequence;
    RNN, LSTM and GRU accept it and return their output as one)."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch allows
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: without batch_sizes, data must be a "
                                "(data, batch_sizes) pair")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """data converted by Tensor.to; batch_sizes and the indices stay int64 on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs) -> "PackedSequence":
        return self.to("cpu", *args, **kwargs)

    def double(self) -> "PackedSequence":
        return self.to(dtypes.float64)

    def float(self) -> "PackedSequence":
        return self.to(dtypes.float32)

    def long(self) -> "PackedSequence":
        return self.to(dtypes.int64)

    def int(self) -> "PackedSequence":
        return self.to(dtypes.int32)

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


def invert_permutation(permutation):
    """The permutation q with q[permutation[i]] = i (None stays None)."""
    if permutation is None:
        return None
    perm = _int_array(permutation, "invert_permutation", "permutation")
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return _long(inverse)


def _batch_sizes(sorted_lengths: np.ndarray) -> np.ndarray:
    """How many of the (decreasing) lengths exceed each step t."""
    steps = np.arange(sorted_lengths[0] if sorted_lengths.size else 0)
    return (sorted_lengths[None, :] > steps[:, None]).sum(axis=1).astype(np.int64)


def _packed_positions(batch_sizes: np.ndarray) -> tuple:
    """(step, position in the sorted batch) of every packed row."""
    starts = np.cumsum(batch_sizes) - batch_sizes
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    return steps, np.arange(steps.size) - np.repeat(starts, batch_sizes)


def _with_padding_row(data: Tensor, padding_value) -> Tensor:
    """data (rows, *) with one more row of padding_value at the end (index rows)."""
    pad = np.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data._array.dtype)
    return cat([data, Tensor._from_op(pad, None)], 0)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs padded (T, B, *) input (or (B, T, *) with batch_first) holding sequences of the
    given lengths. With enforce_sorted=True the lengths must be in decreasing order; otherwise
    the batch is sorted here and the PackedSequence remembers how."""
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be an ember.Tensor, got {type(input).__name__}")
    lengths = _int_array(lengths, op, "lengths")
    if input.ndim < 2:
        raise _core.ShapeError(f"{op}: input must have at least 2 dimensions (steps, batch, *), "
                               f"got shape {tuple(input.shape)}")
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if lengths.size != batch:
        raise _core.ShapeError(f"{op}: Expected `len(lengths)` to be equal to batch_size, but got "
                               f"{lengths.size} (batch_size={batch}, input shape "
                               f"{tuple(input.shape)})")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(f"{op}: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this "
                               f"requirement if you do not need ONNX exportability. Got lengths "
                               f"{lengths.tolist()}")
        order = np.arange(batch)
    else:
        order = np.argsort(-lengths, kind="stable")
    sorted_lengths = lengths[order]
    if batch == 0 or sorted_lengths[-1] <= 0:
        raise RuntimeError(f"{op}: Length of all samples has to be greater than 0, but found an "
                           f"element in 'lengths' that is <= 0 (lengths {lengths.tolist()})")
    if sorted_lengths[0] > steps:
        raise _core.ShapeError(f"{op}: a length ({sorted_lengths[0]}) exceeds the input's "
                               f"{steps} steps (input shape {tuple(input.shape)})")
    batch_sizes = _batch_sizes(sorted_lengths)
    data = packed_data(input, batch_sizes, order, batch_first)
    sorted_indices = None if enforce_sorted else _long(order)
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def packed_data(padded, batch_sizes, sorted_indices=None, batch_first=False) -> Tensor:
    """The data field of the PackedSequence with these batch_sizes and sorted_indices (arrays,
    or None for an already sorted batch) that holds padded (T, B, *) (or (B, T, *))."""
    step, position = _packed_positions(np.asarray(batch_sizes))
    column = position if sorted_indices is None else np.asarray(sorted_indices)[position]
    return padded[(column, step) if batch_first else (step, column)]


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: returns (padded (T, B, *) or (B, T, *), lengths (B,)
    int64), in the batch order the sequences had before packing. T is the longest length, or
    total_length when given."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{op}: sequence must be a PackedSequence, got "
                        f"{type(sequence).__name__}")
    batch_sizes = _int_array(sequence.batch_sizes, op, "batch_sizes")
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = int(total_length)
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    data = sequence.data
    if data.shape[0] != batch_sizes.sum():
        raise _core.ShapeError(f"{op}: data has {data.shape[0]} rows but batch_sizes "
                               f"{batch_sizes.tolist()} sum to {batch_sizes.sum()}")
    unsorted = sequence.unsorted_indices
    sorted_indices = None
    if unsorted is not None:
        sorted_indices = np.argsort(_int_array(unsorted, op, "unsorted_indices"))
    step, position = _packed_positions(batch_sizes)
    column = position if sorted_indices is None else sorted_indices[position]
    index = np.full((steps, batch), data.shape[0], dtype=np.int64)  # the padding row
    index[step, column] = np.arange(data.shape[0])
    padded = _with_padding_row(data, padding_value)[index.T if batch_first else index]
    lengths = np.zeros(batch, dtype=np.int64)
    np.add.at(lengths, column, 1)
    return padded, _long(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences (L_i, *) into (T, B, *) (or (B, T, *) with batch_first), T the longest
    L_i, filling with padding_value after (padding_side='right') or before ('left') each."""
    op = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = [sequences[i] for i in range(sequences.shape[0])]
    if not isinstance(sequences, Iterable):
        raise TypeError(f"{op}: Expected iterable for input sequences, but got arg of type: "
                        f"{type(sequences).__name__}")
    sequences = list(sequences)
    if padding_side not in ("left", "right"):
        raise ValueError(f"{op}: Expected padding_side to be one of left or right, but got "
                         f"{padding_side!r}.")
    if not sequences:
        raise ValueError(f"{op}: received an empty list of sequences")
    for s in sequences:
        if not isinstance(s, Tensor) or s.ndim < 1 or s.shape[1:] != sequences[0].shape[1:]:
            shapes = [tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__
                      for s in sequences]
            raise _core.ShapeError(f"{op}: every sequence must be a tensor of shape (L, *) with "
                                   f"the same trailing dimensions, got {shapes}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    steps, starts = int(lengths.max()), np.cumsum(lengths) - lengths
    t = np.arange(steps)[:, None]
    if padding_side == "left":
        t = t - (steps - lengths)[None, :]
    valid = (t >= 0) & (t < lengths[None, :])
    index = np.where(valid, starts[None, :] + t, lengths.sum())  # (T, B); invalid -> padding row
    padded = _with_padding_row(cat(sequences, 0), padding_value)
    return padded[index.T if batch_first else index]


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) in padded (T, B, *) (or (B, T, *)); unlike PyTorch's, this
    leaves padded_sequences untransposed."""
    lengths = _int_array(lengths, "unpad_sequence", "lengths")
    return [padded_sequences[b, :n] if batch_first else padded_sequences[:n, b]
            for b, n in enumerate(lengths.tolist())]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of sequences (L_i, *); see pack_padded_sequence for enforce_sorted."""
    sequences = list(sequences)
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences a PackedSequence holds, in their original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


# Last: a bad argument raises PyTorch's errors, never an internal one (issue 11).
from ..._public_errors import wrap_public_functions as _wrap_public_functions  # noqa: E402
_wrap_public_functions(globals(), __name__, skip=())
