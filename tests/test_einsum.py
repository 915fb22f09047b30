"""ember.einsum: NumPy forward, float64 gradcheck of every operand, PyTorch parity of forward
and gradients for matmul-like, batched, trace/diagonal, outer, broadcast (ellipsis and size-1)
and implicit-output forms; bad equations and shapes raise naming einsum and the shapes."""
import numpy as np
import pytest

import ember
from op_cases import op_tests

rng = np.random.default_rng(3)


def r(*shape):
    return rng.standard_normal(shape)


def _case(equation, *shapes):
    arrays = [r(*s) for s in shapes]
    return (lambda m, *t: m.einsum(equation, *t),
            lambda *a: np.einsum(equation, *a),
            [(a, True) for a in arrays])


CASES = {
    "matmul": _case("ij,jk->ik", (2, 3), (3, 4)),
    "matmul_implicit": _case("ij,jk", (2, 3), (3, 4)),
    "matmul_optimized_path": _case("ij,jk->ik", (16, 17), (17, 18)),  # > 4096 multiply-adds
    "matmul_transposed_out": _case("ij,jk->ki", (2, 3), (3, 4)),
    "batched_matmul": _case("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    "ellipsis_batched": _case("...ij,...jk->...ik", (2, 2, 3), (2, 3, 4)),
    "ellipsis_broadcast": _case("...ij,jk", (2, 2, 3), (3, 4)),
    "trace": _case("ii", (4, 4)),
    "trace_explicit": _case("ii->", (3, 3)),
    "diagonal": _case("ii->i", (3, 3)),
    "batched_diagonal": _case("bii->bi", (2, 3, 3)),
    "dot": _case("i,i->", (5,), (5,)),
    "outer": _case("i,j->ij", (3,), (4,)),
    "sum_inside_one_operand": _case("ij->i", (3, 4)),
    "sum_all": _case("ij->", (3, 4)),
    "transpose": _case("ijk->kji", (2, 3, 4)),
    "bilinear": _case("bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5)),
    "attention_scores": _case("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)),
    "row_sum_times_vector": _case("ij,k->ik", (2, 3), (4,)),
    "size_one_broadcast": _case("bi,i->b", (5, 1), (3,)),
    "implicit_sorted_output": _case("ba,b", (2, 3), (2,)),
    "same_operand_twice": (lambda m, x: m.einsum("ij,ij->i", x, x),
                           lambda x: np.einsum("ij,ij->i", x, x), [(r(3, 4), True)]),
}


# NumPy does not broadcast named size-1 dimensions; PyTorch (and ember) do.
NUMPY_REFS = {"size_one_broadcast":
              lambda a, b: np.einsum("bi,i->b", np.broadcast_to(a, (5, 3)), b)}
(test_forward_matches_numpy, test_gradcheck, test_matches_pytorch,
 test_float32_agrees_with_float64) = op_tests(
    CASES, numpy_refs=NUMPY_REFS)


def test_operands_as_a_list_and_spaces_in_the_equation():
    a, b = ember.tensor(r(2, 3)), ember.tensor(r(3, 2))
    assert ember.einsum("ij, jk -> ik", [a, b]).tolist() == ember.einsum("ij,jk->ik", a, b).tolist()


def test_float32_and_int_operands():
    a, b = r(2, 3), r(3, 4)
    out = ember.einsum("ij,jk->ik", ember.tensor(a, dtype=ember.float32),
                       ember.tensor(b, dtype=ember.float32))
    assert out.dtype == ember.float32
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-5, atol=1e-5)
    ints = ember.einsum("i,i->", ember.tensor([1, 2, 3]), ember.tensor([4, 5, 6]))
    assert ints.dtype == ember.int64 and ints.item() == 32


@pytest.mark.parametrize("equation, shapes, error, message", [
    ("ij,jk->ik", [(2, 3), (4, 2)], ember.ShapeError,
     r"subscript j has size 4 for operand 1 .* previously seen size 3 .*\(2, 3\), \(4, 2\)"),
    ("ij,jk", [(2, 3)], ember.ShapeError, "fewer operands"),
    ("ij", [(2, 3), (3,)], ember.ShapeError, "more operands"),
    ("ijk->i", [(2, 3)], ember.ShapeError,
     r"the number of subscripts .*\(3\).* dimensions \(2\)"),
    ("ij->ii", [(2, 2)], ember.ShapeError, "output subscript i"),
    ("ij->k", [(2, 2)], ember.ShapeError, "output subscript k"),
    ("i1->i", [(2, 2)], ember.ShapeError, "invalid subscript"),
])
def test_bad_equations_raise_naming_einsum(equation, shapes, error, message):
    with pytest.raises(error, match="einsum\\(\\): " + message):
        ember.einsum(equation, *[ember.ones(*s) for s in shapes])


def test_mixed_dtypes_and_sublist_format_are_rejected():
    with pytest.raises(TypeError, match="same dtype"):
        ember.einsum("i,i->", ember.ones(2), ember.ones(2, dtype=ember.float64))
    with pytest.raises(NotImplementedError, match="sublist"):
        ember.einsum(ember.ones(2), [0], ember.ones(2), [0])
