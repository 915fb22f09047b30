"""einsum's contractions on ember's matrix products (ops/einsum_contract.py) against
numpy.einsum, on specs above the small-work threshold: batch, inner, free and summed-out
letters, diagonals, several operands, and the gradients through ember.einsum."""
import math

import numpy as np
import pytest

import ember
from ember.ops import einsum_contract
from ember.testing import gradcheck

rng = np.random.default_rng(5)

SIZES = {"b": 3, "h": 2, "i": 17, "j": 19, "k": 23, "l": 5, "n": 7}
SPECS = [
    "ik,kj->ij",            # a matrix product
    "bik,bkj->bij",         # batched
    "bhik,bhjk->bhij",      # attention scores
    "bhij,bhjk->bhik",      # attention times values
    "ik,jk->ij",            # one operand transposed
    "ijk,ijk->i",           # row-wise dot products (batch letter only)
    "ik,kj->ji",            # the output transposed
    "ikl,kj->ij",           # l summed inside the first operand alone
    "ik,j->ijk",            # an outer product (no inner letter)
    "iik,kj->ij",           # a diagonal of the first operand
    "ik,kl,lj->ij",         # three operands (einsum_path orders them)
    "bik,bkl,blj->bji",     # three, batched, output transposed
    "bik,bjk,ij->bk",       # a bilinear form per k
]


def operands(spec, dtype, sizes=SIZES):
    return [rng.standard_normal([sizes[c] for c in term]).astype(dtype)
            for term in spec.split("->")[0].split(",")]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_contraction_matches_numpy(spec, dtype):
    arrays = operands(spec, dtype)
    work = math.prod(SIZES[c] for c in set(spec) - set(",->"))
    assert work > einsum_contract._SMALL_WORK  # the products' path, not numpy's loops
    got = einsum_contract.einsum(spec, *arrays, work=work)
    want = np.einsum(spec, *[a.astype(np.float64) for a in arrays])
    assert got.dtype == dtype and got.shape == want.shape
    tol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_integer_operands_keep_numpy_loops():
    a, b = rng.integers(-5, 5, (40, 30)), rng.integers(-5, 5, (30, 20))
    got = einsum_contract.einsum("ik,kj->ij", a, b, work=40 * 30 * 20)
    np.testing.assert_array_equal(got, a @ b)


@pytest.mark.parametrize("spec", ["bhik,bhjk->bhij", "ik,kl,lj->ij", "iik,kj->ij", "ikl,kj->ij"])
def test_gradients_through_the_products(spec):
    sizes = {"b": 2, "h": 2, "i": 8, "j": 9, "k": 64, "l": 4}  # still above _SMALL_WORK
    assert math.prod(sizes[c] for c in set(spec) - set(",->")) > einsum_contract._SMALL_WORK
    arrays = [ember.tensor(a, requires_grad=True) for a in operands(spec, np.float64, sizes)]
    assert gradcheck(lambda *t: ember.einsum(spec, *t), arrays)


def test_broadcast_size_one_letters():
    a = rng.standard_normal((1, 2, 17, 23))
    b = rng.standard_normal((3, 1, 19, 23))
    got = ember.einsum("bhik,bhjk->bhij", ember.tensor(a), ember.tensor(b)).numpy()
    np.testing.assert_allclose(got, np.einsum("bhik,bhjk->bhij", a, b), rtol=1e-12, atol=1e-12)
