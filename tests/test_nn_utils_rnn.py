"""nn.utils.rnn: pad_sequence, pack_padded_sequence, pad_packed_sequence, pack_sequence,
unpad/unpack and PackedSequence against hand-written NumPy references and PyTorch, gradients
through packing and padding, and bad input."""
import numpy as np
import pytest

import ember
from ember.nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence,
                                pack_sequence, pad_packed_sequence, pad_sequence,
                                unpack_sequence, unpad_sequence)
from ember.testing import assert_close, gradcheck

LENGTHS = [2, 5, 3, 5, 1]


def sequences(lengths=LENGTHS, features=3, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, features)) for n in lengths]


def pad_reference(seqs, batch_first, value, side):
    steps = max(len(s) for s in seqs)
    out = np.full((steps, len(seqs)) + seqs[0].shape[1:], value)
    for b, s in enumerate(seqs):
        if side == "right":
            out[:len(s), b] = s
        else:
            out[steps - len(s):, b] = s
    return out.swapaxes(0, 1) if batch_first else out


def pack_reference(seqs):
    """Sorted by decreasing length (stably), step by step: (data, batch_sizes, order)."""
    order = sorted(range(len(seqs)), key=lambda b: -len(seqs[b]))
    rows, sizes = [], []
    for t in range(len(seqs[order[0]])):
        alive = [b for b in order if len(seqs[b]) > t]
        sizes.append(len(alive))
        rows += [seqs[b][t] for b in alive]
    return np.stack(rows), sizes, order


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence_matches_numpy(batch_first, side):
    seqs = sequences()
    got = pad_sequence([ember.tensor(s) for s in seqs], batch_first, -2.0, side)
    assert_close(got, pad_reference(seqs, batch_first, -2.0, side))


def test_pad_sequence_defaults_and_more_dimensions():
    seqs = [np.ones((2, 2, 3)), np.ones((4, 2, 3))]
    got = pad_sequence([ember.tensor(s, dtype=ember.float32) for s in seqs])
    assert got.shape == (4, 2, 2, 3) and got.dtype == ember.float32
    assert_close(got, pad_reference(seqs, False, 0.0, "right"))


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_padded_sequence_unsorted_matches_numpy(batch_first):
    seqs = sequences()
    padded = ember.tensor(pad_reference(seqs, batch_first, 0.0, "right"))
    packed = pack_padded_sequence(padded, LENGTHS, batch_first, enforce_sorted=False)
    data, sizes, order = pack_reference(seqs)
    assert isinstance(packed, PackedSequence)
    assert_close(packed.data, data)
    assert packed.batch_sizes.tolist() == sizes and packed.batch_sizes.dtype == ember.int64
    assert packed.sorted_indices.tolist() == order
    assert packed.unsorted_indices.tolist() == np.argsort(order).tolist()
    assert packed == (packed.data, packed.batch_sizes, packed.sorted_indices,
                      packed.unsorted_indices)  # a named tuple, as PyTorch's


def test_pack_sorted_keeps_no_indices_and_round_trips():
    seqs = sequences([5, 4, 4, 2])
    packed = pack_sequence([ember.tensor(s) for s in seqs])
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    padded, lengths = pad_packed_sequence(packed, batch_first=True, padding_value=7.0,
                                          total_length=6)
    assert lengths.tolist() == [5, 4, 4, 2] and lengths.dtype == ember.int64
    want = pad_reference(seqs, True, 7.0, "right")
    want = np.concatenate([want, np.full((4, 1, 3), 7.0)], axis=1)
    assert_close(padded, want)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_packed_sequence_restores_the_original_order(batch_first):
    seqs = sequences()
    packed = pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    padded, lengths = pad_packed_sequence(packed, batch_first)
    assert lengths.tolist() == LENGTHS
    assert_close(padded, pad_reference(seqs, batch_first, 0.0, "right"))
    for got, want in zip(unpack_sequence(packed), seqs):
        assert_close(got, want)
    for got, want in zip(unpad_sequence(padded, lengths, batch_first), seqs):
        assert_close(got, want)


def test_gradients_flow_through_pad_pack_and_unpack():
    seqs = [ember.tensor(s, requires_grad=True) for s in sequences([3, 1, 2], features=2)]

    def f(a, b, c):
        packed = pack_sequence([a, b, c], enforce_sorted=False)
        padded, _ = pad_packed_sequence(packed, batch_first=True, padding_value=1.5)
        return padded * padded, pad_sequence([c, a], padding_side="left")
    assert gradcheck(f, tuple(seqs))


def test_packed_sequence_fields_and_conversions():
    packed = pack_sequence([ember.tensor(s, dtype=ember.float32) for s in sequences()],
                           enforce_sorted=False)
    assert PackedSequence._fields == ("data", "batch_sizes", "sorted_indices",
                                      "unsorted_indices")
    double = packed.double()
    assert double.data.dtype == ember.float64 and double.batch_sizes is packed.batch_sizes
    assert packed.to("cpu") is packed and packed.float() is packed and not packed.is_cuda
    rebuilt = PackedSequence(packed.data, packed.batch_sizes, packed.sorted_indices)
    assert rebuilt.unsorted_indices.tolist() == packed.unsorted_indices.tolist()
    assert invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert invert_permutation(None) is None


def test_bad_input_is_named():
    x = ember.randn(4, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(x, [2, 4, 1])
    with pytest.raises(RuntimeError, match="has to be greater than 0"):
        pack_padded_sequence(x, [4, 0, 1], enforce_sorted=False)
    with pytest.raises(ValueError, match=r"len\(lengths\)` to be equal to batch_size"):
        pack_padded_sequence(x, [4, 2])
    with pytest.raises(ValueError, match=r"exceeds the input's 4 steps"):
        pack_padded_sequence(x, [5, 2, 1])
    packed = pack_padded_sequence(x, [4, 2, 1])
    with pytest.raises(ValueError, match="total_length=3 and max sequence length being 4"):
        pad_packed_sequence(packed, total_length=3)
    with pytest.raises(ValueError, match="padding_side"):
        pad_sequence([x[:, 0]], padding_side="middle")
    with pytest.raises(ValueError, match=r"same trailing dimensions.*\(4, 2\), \(4, 3\)"):
        pad_sequence([ember.randn(4, 2), ember.randn(4, 3)])
    with pytest.raises(ValueError, match="empty list"):
        pad_sequence([])


def test_matches_pytorch():
    torch = pytest.importorskip("torch")
    R = torch.nn.utils.rnn
    seqs = sequences([2, 5, 3, 5, 1, 5])
    ours = [ember.tensor(s) for s in seqs]
    theirs = [torch.tensor(s) for s in seqs]
    for side in ("left", "right"):
        assert_close(pad_sequence(ours, True, 3.0, side),
                     R.pad_sequence(theirs, True, 3.0, side).numpy())
    p, tp = pack_sequence(ours, False), R.pack_sequence(theirs, False)
    assert_close(p.data, tp.data.numpy())
    for field in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        assert getattr(p, field).tolist() == getattr(tp, field).tolist()
    padded, lengths = pad_packed_sequence(p, total_length=7)
    tpadded, tlengths = R.pad_packed_sequence(tp, total_length=7)
    assert_close(padded, tpadded.numpy())
    assert lengths.tolist() == tlengths.tolist()
