"""hstack, vstack/row_stack, dstack, column_stack, atleast_1d/2d/3d, broadcast_to,
broadcast_tensors, broadcast_shapes and cartesian_prod: NumPy forward, float64 gradcheck,
PyTorch parity of forward and gradients, and errors naming the op."""
import numpy as np
import pytest

import ember
from op_cases import op_tests

rng = np.random.default_rng(4)
V3, V2 = rng.standard_normal(3), rng.standard_normal(2)
M23, M33 = rng.standard_normal((2, 3)), rng.standard_normal((3, 3))
S = np.array(1.5)

CASES = {
    "hstack_vectors": (lambda m, a, b: m.hstack([a, b]), lambda a, b: np.hstack([a, b]),
                       [(V3, True), (V2, True)]),
    "hstack_matrices": (lambda m, a, b: m.hstack((a, b)), lambda a, b: np.hstack([a, b]),
                        [(M23, True), (M23[:, :1], True)]),
    "vstack": (lambda m, a, b: m.vstack([a, b]), lambda a, b: np.vstack([a, b]),
               [(V3, True), (M23, True)]),
    "row_stack": (lambda m, a, b: m.row_stack([a, b]), lambda a, b: np.vstack([a, b]),
                  [(M33, True), (M23, True)]),
    "dstack": (lambda m, a, b: m.dstack([a, b]), lambda a, b: np.dstack([a, b]),
               [(M23, True), (M23 * 2, True)]),
    "dstack_vectors": (lambda m, a, b: m.dstack([a, b]), lambda a, b: np.dstack([a, b]),
                       [(V3, True), (V3 + 1, True)]),
    "column_stack": (lambda m, a, b: m.column_stack([a, b]),
                     lambda a, b: np.column_stack([a, b]), [(V2, True), (M23, True)]),
    "atleast_1d": (lambda m, a: m.atleast_1d(a), np.atleast_1d, [(S, True)]),
    "atleast_2d_vector": (lambda m, a: m.atleast_2d(a), np.atleast_2d, [(V3, True)]),
    "atleast_2d_scalar": (lambda m, a: m.atleast_2d(a), np.atleast_2d, [(S, True)]),
    "atleast_3d_matrix": (lambda m, a: m.atleast_3d(a), np.atleast_3d, [(M23, True)]),
    "atleast_3d_vector": (lambda m, a: m.atleast_3d(a), np.atleast_3d, [(V3, True)]),
    "broadcast_to": (lambda m, a: m.broadcast_to(a, (2, 3)), lambda a: np.broadcast_to(a, (2, 3)),
                     [(V3, True)]),
    "broadcast_to_method_minus_one": (lambda m, a: a.broadcast_to((4, -1, 3)),
                                      lambda a: np.broadcast_to(a, (4, 2, 3)), [(M23, True)]),
    "broadcast_tensors": (lambda m, a, b: m.stack(m.broadcast_tensors(a, b)),
                          lambda a, b: np.stack(np.broadcast_arrays(a, b)),
                          [(V3, True), (M23[:, :1], True)]),
    "cartesian_prod": (lambda m, a, b: m.cartesian_prod(a, b),
                       lambda a, b: np.array([[x, y] for x in a for y in b]),
                       [(V3, True), (V2, True)]),
    "cartesian_prod_three": (lambda m, a, b, c: m.cartesian_prod(a, b, c),
                             lambda a, b, c: np.array([[x, y, z] for x in a for y in b
                                                       for z in c]),
                             [(V2, True), (V3, True), (V2 * 3, True)]),
}

(test_forward_matches_numpy, test_gradcheck, test_matches_pytorch,
 test_float32_agrees_with_float64) = op_tests(CASES)


def test_atleast_with_several_tensors_returns_a_tuple_like_pytorch():
    torch = pytest.importorskip("torch")
    for fn in ("atleast_1d", "atleast_2d", "atleast_3d"):
        ours = getattr(ember, fn)(ember.tensor(1.0), ember.ones(2))
        theirs = getattr(torch, fn)(torch.tensor(1.0), torch.ones(2))
        assert isinstance(ours, tuple) and len(ours) == 2
        assert [tuple(t.shape) for t in ours] == [tuple(t.shape) for t in theirs]
        listed = getattr(ember, fn)([ember.tensor(1.0), ember.ones(2)])
        assert [tuple(t.shape) for t in listed] == [tuple(t.shape) for t in theirs]


def test_broadcast_shapes_and_cartesian_prod_of_one_tensor_match_pytorch():
    torch = pytest.importorskip("torch")
    assert ember.broadcast_shapes((2, 1), (3,), 1) == torch.broadcast_shapes((2, 1), (3,), 1)
    assert isinstance(ember.broadcast_shapes((2, 1)), ember.Size)
    assert ember.cartesian_prod(ember.arange(3)).tolist() == [0, 1, 2]
    assert ember.cartesian_prod(ember.arange(2), ember.arange(2)).dtype == ember.int64


@pytest.mark.parametrize("call, error, message", [
    (lambda: ember.hstack([]), ValueError, "hstack: expects a non-empty"),
    (lambda: ember.vstack(ember.ones(2)), ValueError, "vstack: expects a non-empty sequence"),
    (lambda: ember.vstack([ember.ones(2), ember.ones(3)]), ember.ShapeError, "cat"),
    (lambda: ember.dstack([ember.ones(2), 3.0]), TypeError, "dstack: expected Tensors"),
    (lambda: ember.broadcast_shapes((2, 3), (4,)), ember.ShapeError,
     r"broadcast_shapes: shapes \[\(2, 3\), \(4,\)\]"),
    (lambda: ember.broadcast_tensors(ember.ones(2), ember.ones(3)), ember.ShapeError,
     "cannot be broadcast"),
    (lambda: ember.broadcast_to(ember.ones(3), (2, 4)), ember.ShapeError, "expand"),
    (lambda: ember.cartesian_prod(ember.ones(2, 2)), ember.ShapeError, "expect 1D vector"),
])
def test_bad_input_raises_naming_the_op(call, error, message):
    with pytest.raises(error, match=message):
        call()
