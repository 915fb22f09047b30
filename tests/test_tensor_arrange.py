"""repeat, repeat_interleave, tile, flip, fliplr, flipud, roll, rot90, narrow, diag, diagonal,
diag_embed, trace, tril, triu (functions and methods): NumPy forward, float64 gradcheck,
PyTorch parity of forward and gradients, and bad input raising errors that name the op and
shapes."""
import numpy as np
import pytest

import ember
from op_cases import op_tests

rng = np.random.default_rng(5)
A = rng.standard_normal((2, 3))
B = rng.standard_normal((2, 3, 4))
V = rng.standard_normal(4)
M = rng.standard_normal((3, 5))


CASES = {
    "repeat": (lambda m, x: x.repeat(2, 3), lambda x: np.tile(x, (2, 3)), [(A, True)]),
    "repeat_new_dims": (lambda m, x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)),
                        [(A, True)]),
    "repeat_tuple_and_zero": (lambda m, x: x.repeat((0, 2)), lambda x: np.tile(x, (0, 2)),
                              [(A, True)]),
    "tile_fewer_dims": (lambda m, x: m.tile(x, (2,)), lambda x: np.tile(x, (1, 1, 2)),
                        [(B, True)]),
    "tile_method": (lambda m, x: x.tile(2, 1, 1), lambda x: np.tile(x, (2, 1, 1)), [(A, True)]),
    "repeat_interleave_int": (lambda m, x: m.repeat_interleave(x, 2),
                              lambda x: np.repeat(x, 2), [(A, True)]),
    "repeat_interleave_dim": (lambda m, x: x.repeat_interleave(3, dim=1),
                              lambda x: np.repeat(x, 3, axis=1), [(A, True)]),
    "repeat_interleave_tensor": (lambda m, x: x.repeat_interleave(m.tensor([2, 0, 1, 3]),
                                                                  dim=-1),
                                 lambda x: np.repeat(x, [2, 0, 1, 3], axis=-1), [(B, True)]),
    "repeat_interleave_one_count": (lambda m, x: m.repeat_interleave(x, m.tensor([2]), dim=0),
                                    lambda x: np.repeat(x, 2, axis=0), [(A, True)]),
    "flip": (lambda m, x: m.flip(x, [0, 2]), lambda x: np.flip(x, (0, 2)), [(B, True)]),
    "flip_method_varargs": (lambda m, x: x.flip(-1, 0), lambda x: np.flip(x, (0, 1)),
                            [(A, True)]),
    "fliplr": (lambda m, x: m.fliplr(x), np.fliplr, [(B, True)]),
    "flipud": (lambda m, x: x.flipud(), np.flipud, [(V, True)]),
    "roll_flat": (lambda m, x: m.roll(x, 4), lambda x: np.roll(x, 4), [(A, True)]),
    "roll_dims": (lambda m, x: x.roll((1, -2), (0, 2)), lambda x: np.roll(x, (1, -2), (0, 2)),
                  [(B, True)]),
    "roll_one_dim": (lambda m, x: m.roll(x, -1, 1), lambda x: np.roll(x, -1, 1), [(A, True)]),
    "narrow": (lambda m, x: x.narrow(2, 1, 2), lambda x: x[:, :, 1:3], [(B, True)]),
    "narrow_negative_start": (lambda m, x: m.narrow(x, 0, -1, 1), lambda x: x[-1:], [(A, True)]),
    "diag_of_vector": (lambda m, x: m.diag(x), np.diag, [(V, True)]),
    "diag_of_vector_offset": (lambda m, x: x.diag(-2), lambda x: np.diag(x, -2), [(V, True)]),
    "diag_of_matrix": (lambda m, x: m.diag(x, 1), lambda x: np.diag(x, 1), [(M, True)]),
    "diag_of_matrix_below": (lambda m, x: x.diag(-1), lambda x: np.diag(x, -1), [(M, True)]),
    "diagonal_3d": (lambda m, x: m.diagonal(x, 1, 0, 2), lambda x: np.diagonal(x, 1, 0, 2),
                    [(B, True)]),
    "diagonal_negative_dims": (lambda m, x: x.diagonal(dim1=-1, dim2=-2),
                               lambda x: np.diagonal(x, 0, -1, -2), [(B, True)]),
    "diag_embed": (lambda m, x: m.diag_embed(x), lambda x: np.einsum("ij,jk->ijk", x,
                                                                     np.eye(3)), [(A, True)]),
    "diag_embed_offset_dims": (lambda m, x: x.diag_embed(-1, 0, 2),
                               lambda x: np.moveaxis(np.stack([np.diag(r, -1) for r in x]),
                                                     (1, 2), (0, 2)), [(A, True)]),
    "rot90": (lambda m, x: m.rot90(x), np.rot90, [(A, True)]),
    "rot90_k2_dims": (lambda m, x: x.rot90(2, [0, 2]), lambda x: np.rot90(x, 2, (0, 2)),
                      [(B, True)]),
    "rot90_k3_reversed": (lambda m, x: m.rot90(x, -1, (1, 0)), lambda x: np.rot90(x, -1, (1, 0)),
                          [(B, True)]),
    "rot90_k0": (lambda m, x: m.rot90(x, 4) * 2, lambda x: x * 2, [(A, True)]),
    "trace": (lambda m, x: m.trace(x), np.trace, [(M, True)]),
    "trace_method": (lambda m, x: x.trace(), np.trace, [(M.T, True)]),
    "tril": (lambda m, x: m.tril(x), np.tril, [(M, True)]),
    "tril_batched_offset": (lambda m, x: x.tril(-1), lambda x: np.tril(x, -1), [(B, True)]),
    "triu": (lambda m, x: m.triu(x, 1), lambda x: np.triu(x, 1), [(M, True)]),
    "triu_method": (lambda m, x: x.triu(-1), lambda x: np.triu(x, -1), [(B, True)]),
}


(test_forward_matches_numpy, test_gradcheck, test_matches_pytorch,
 test_float32_agrees_with_float64) = op_tests(CASES, forward_tol=0)


def test_repeat_interleave_of_counts_alone_gives_indices_like_pytorch():
    out = ember.repeat_interleave(ember.tensor([2, 0, 3]))
    assert out.tolist() == [0, 0, 2, 2, 2] and out.dtype == ember.int64
    assert ember.repeat_interleave(ember.tensor([1, 2]), 2, output_size=4).tolist() == \
        [1, 1, 2, 2]


def test_int_tensors_keep_their_dtype():
    t = ember.tensor([[1, 2], [3, 4]])
    for out in (t.repeat(2, 1), t.flip(0), t.roll(1), t.tril(), t.diag(), t.narrow(0, 0, 1),
                t.repeat_interleave(2)):
        assert out.dtype == ember.int64
    assert t.trace().item() == 5 and t.trace().dtype == ember.int64


def test_inplace_tril_triu():
    t = ember.ones(3, 3)
    assert t.tril_() is t and t.sum().item() == 6
    x = ember.ones(3, 3, requires_grad=True)
    y = x * 2
    y.triu_(1)
    y.sum().backward()
    assert x.grad.tolist() == np.triu(np.full((3, 3), 2.0), 1).tolist()


@pytest.mark.parametrize("call, error, message", [
    (lambda t: t.repeat(2), ember.ShapeError, r"repeat dims \(2,\).*\(2, 3\)"),
    (lambda t: t.repeat(2, -1), ValueError, "negative"),
    (lambda t: t.repeat_interleave(ember.tensor([1, 2]), dim=1), ember.ShapeError,
     r"same size as input along dim 1 \(3\)"),
    (lambda t: t.repeat_interleave(ember.tensor([1, -1, 1]), dim=1), ValueError, "negative"),
    (lambda t: t.repeat_interleave(1.5), TypeError, "repeats must be an int"),
    (lambda t: t.repeat_interleave(2, dim=2), IndexError, "Dimension out of range"),
    (lambda t: t.repeat_interleave(2, output_size=5), ValueError, "output_size=5"),
    (lambda t: t.flip(2), IndexError, "Dimension out of range"),
    (lambda t: t.flip(0, 0), RuntimeError, "repeated"),
    (lambda t: ember.fliplr(t[0]), ember.ShapeError, r"fliplr.*\(3,\)"),
    (lambda t: t.roll((1, 2), 0), RuntimeError, "shifts: 2, dims: 1"),
    (lambda t: t.roll(1, 3), IndexError, "Dimension out of range"),
    (lambda t: t.narrow(1, 2, 2), RuntimeError, r"start \(2\) \+ length \(2\) exceeds dimension "
                                                r"size \(3\)"),
    (lambda t: t.narrow(1, 4, 0), IndexError, r"start \(4\) out of range"),
    (lambda t: t.narrow(2, 0, 1), IndexError, "Dimension out of range"),
    (lambda t: t.diag().diag().diag().reshape(1, 1, -1).diag(), ember.ShapeError,
     "Supports 1D or 2D tensors. Got 3D"),
    (lambda t: t.diagonal(0, 1, 1), RuntimeError, "cannot be identical"),
    (lambda t: ember.trace(t[0]), ember.ShapeError, "expected a matrix"),
    (lambda t: t.diag_embed(0, 1, 1), RuntimeError, "cannot be identical"),
    (lambda t: t.diag_embed(0, 0, 3), IndexError, "Dimension out of range"),
    (lambda t: t.rot90(1, [0]), RuntimeError, "rotation dims == 2"),
    (lambda t: t.rot90(1, [1, 1]), RuntimeError, "rotation dims to be different"),
    (lambda t: t[0].rot90(), ember.ShapeError, "total dims >= 2"),
    (lambda t: ember.tril(t[0]), ember.ShapeError, r"tril.*at least 2 dimensions.*\(3,\)"),
])
def test_bad_input_raises_naming_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call(ember.ones(2, 3))


def test_bad_input_raises_in_pytorch_too():
    torch = pytest.importorskip("torch")
    t = torch.ones(2, 3)
    for call in (lambda: t.repeat(2), lambda: t.narrow(1, 2, 2), lambda: t.roll((1, 2), 0),
                 lambda: torch.trace(t[0]), lambda: t.flip(2)):
        with pytest.raises((RuntimeError, IndexError)):
            call()
