"""dot, vdot, mv, outer/ger, inner, tensordot, kron, cross and meshgrid (functions and
methods): NumPy forward, float64 gradcheck, PyTorch parity of forward and gradients, and
PyTorch's checks on bad input."""
import numpy as np
import pytest

import ember
from op_cases import op_tests

rng = np.random.default_rng(9)
U, W = rng.standard_normal(4), rng.standard_normal(4)
M = rng.standard_normal((3, 4))
P, Q = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))


def _meshgrid_ref(indexing):
    return lambda *a: np.stack(np.meshgrid(*a, indexing=indexing))


CASES = {
    "dot": (lambda m, a, b: m.dot(a, b), np.dot, [(U, True), (W, True)]),
    "dot_method": (lambda m, a, b: a.dot(b), np.dot, [(U, True), (W, True)]),
    "vdot": (lambda m, a, b: m.vdot(a, b), np.vdot, [(U, True), (W, True)]),
    "mv": (lambda m, a, v: m.mv(a, v), np.dot, [(M, True), (U, True)]),
    "mv_method": (lambda m, a, v: a.mv(v), np.dot, [(M, True), (W, True)]),
    "outer": (lambda m, a, b: m.outer(a, b), np.outer, [(U, True), (M[0, :3], True)]),
    "ger_method": (lambda m, a, b: a.ger(b), np.outer, [(U, True), (W, True)]),
    "cross_dim": (lambda m, a, b: m.cross(a, b, dim=1), lambda a, b: np.cross(a, b, axis=1),
                  [(P, True), (Q, True)]),
    "cross_method_negative_dim": (lambda m, a, b: a.cross(b, dim=-1),
                                  lambda a, b: np.cross(a, b), [(P, True), (Q[:1], True)]),
    "cross_dim0": (lambda m, a, b: m.cross(a, b, dim=0), lambda a, b: np.cross(a, b, axis=0),
                   [(P.T, True), (Q.T, True)]),
    "inner_vectors": (lambda m, a, b: m.inner(a, b), np.inner, [(U, True), (W, True)]),
    "inner_batched": (lambda m, a, b: a.inner(b), np.inner, [(M, True), (P[:, :1] * U, True)]),
    "inner_scalar": (lambda m, a, b: m.inner(a, b), np.inner, [(U, True), (np.array(1.5), True)]),
    "tensordot_int": (lambda m, a, b: m.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
                      [(P, True), (M, True)]),
    "tensordot_lists": (lambda m, a, b: m.tensordot(a, b, dims=([1, 0], [0, 2])),
                        lambda a, b: np.tensordot(a, b, ([1, 0], [0, 2])),
                        [(M.reshape(4, 3), True), (rng.standard_normal((3, 2, 4)), True)]),
    "tensordot_zero": (lambda m, a, b: m.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
                       [(U[:2], True), (W[:3], True)]),
    "kron_matrices": (lambda m, a, b: m.kron(a, b), np.kron, [(P, True), (M[:2, :2], True)]),
    "kron_mixed_ndim": (lambda m, a, b: a.kron(b), np.kron, [(U[:3], True), (M, True)]),
    "meshgrid_ij": (lambda m, a, b, c: m.stack(m.meshgrid(a, b, c, indexing="ij")),
                    _meshgrid_ref("ij"), [(U[:2], True), (W[:3], True), (M[0], True)]),
    "meshgrid_xy": (lambda m, a, b, c: m.stack(m.meshgrid([a, b, c], indexing="xy")),
                    _meshgrid_ref("xy"), [(U[:2], True), (W[:3], True), (M[0], True)]),
    "meshgrid_single": (lambda m, a: m.meshgrid(a, indexing="xy")[0], lambda a: a,
                        [(U, True)]),
}


(test_forward_matches_numpy, test_gradcheck, test_matches_pytorch,
 test_float32_agrees_with_float64) = op_tests(CASES)


def test_meshgrid_shapes_dtypes_and_zero_d_inputs_match_pytorch():
    torch = pytest.importorskip("torch")
    for indexing in ("ij", "xy"):
        for make in (lambda m: (m.arange(3), m.arange(2)),
                     lambda m: (m.tensor(5), m.arange(4), m.arange(2))):
            ours = ember.meshgrid(*make(ember), indexing=indexing)
            theirs = torch.meshgrid(*make(torch), indexing=indexing)
            assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
            assert [t.tolist() for t in ours] == [t.tolist() for t in theirs]
            assert all(t.dtype == ember.int64 for t in ours)


def test_meshgrid_without_indexing_warns_like_pytorch_and_uses_ij():
    with pytest.warns(UserWarning, match="indexing argument"):
        x, y = ember.meshgrid(ember.arange(3), ember.arange(2))
    assert tuple(x.shape) == (3, 2)


def test_cross_without_dim_warns_and_takes_the_first_dimension_of_size_3():
    a, b = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    with pytest.warns(UserWarning, match="dim"):
        out = ember.cross(ember.tensor(a), ember.tensor(b))
    np.testing.assert_allclose(out.numpy(), np.cross(a, b, axis=0), rtol=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: ember.dot(ember.ones(3, 1), ember.ones(3)), ember.ShapeError,
     r"dot: 1D tensors expected, but got 2D and 1D"),
    (lambda: ember.dot(ember.ones(3), ember.ones(4)), ember.ShapeError,
     r"dot: inconsistent tensor size.*\(3,\) and \(4,\)"),
    (lambda: ember.dot(ember.ones(3), ember.ones(3, dtype=ember.float64)), TypeError,
     "dot: expected both arguments to have the same dtype"),
    (lambda: ember.mv(ember.ones(2, 3), ember.ones(4)), ember.ShapeError,
     r"mv: size mismatch, got input \(2\), mat \(2x3\), vec \(4\)"),
    (lambda: ember.mv(ember.ones(3), ember.ones(3)), ember.ShapeError, "mv: expected a 2-D"),
    (lambda: ember.outer(ember.ones(2, 3), ember.ones(4)), ember.ShapeError,
     "outer: Expected 1-D argument self, but got 2-D"),
    (lambda: ember.cross(ember.ones(2, 4), ember.ones(2, 4), dim=1), ember.ShapeError,
     "cross: inputs dimension 1 must have length 3"),
    (lambda: ember.cross(ember.ones(1, 3), ember.ones(3), dim=1), ember.ShapeError,
     "same number of dimensions"),
    (lambda: ember.meshgrid(ember.ones(2, 2), ember.ones(3), indexing="ij"), ember.ShapeError,
     r"meshgrid: Expected 0D or 1D tensor.*\(2, 2\)"),
    (lambda: ember.meshgrid(ember.ones(2), ember.ones(2, dtype=ember.float64), indexing="ij"),
     TypeError, "same dtype"),
    (lambda: ember.meshgrid(ember.ones(2), indexing="yx"), ValueError, "'xy' or 'ij'"),
    (lambda: ember.tensordot(ember.ones(2, 3), ember.ones(2, 3), 1), ember.ShapeError,
     r"tensordot: contracted dimensions need the same size, got 3 \(dim 1\) and 2"),
    (lambda: ember.tensordot(ember.ones(2, 3), ember.ones(3), 2), ember.ShapeError,
     "dims=2 out of range"),
    (lambda: ember.tensordot(ember.ones(2, 3), ember.ones(3), ([1, 0], [0])), ember.ShapeError,
     "same length"),
    (lambda: ember.inner(ember.ones(2, 3), ember.ones(2)), ember.ShapeError,
     "inner: the last dimensions"),
])
def test_bad_input_raises_like_pytorch(call, error, message):
    with pytest.raises(error, match=message):
        call()
