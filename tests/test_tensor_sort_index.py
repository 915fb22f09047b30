"""Sorting, order statistics and indexing along a dim (sort, topk, kthvalue, median, mode,
gather, scatter, index_select, masked_fill/select, take): NumPy forward, float64 gradcheck,
PyTorch parity of values, indices and gradients, and the errors of bad indices."""
import warnings

import numpy as np
import pytest

import ember
from ember.testing import assert_close
from index_op_checks import (check_exactly_as_pytorch, check_float32, check_forward,
                             check_gradcheck, check_pytorch)

rng = np.random.default_rng(8)
X = rng.standard_normal((2, 3, 4))  # distinct values: orders and picks are unambiguous
Y = rng.standard_normal((2, 3, 4))
MASK = rng.standard_normal((3, 4)) > 0
# gather/scatter_add indices with repeats; scatter (set) indices a permutation along dim 1, so
# no position is written twice (PyTorch leaves the winner of a repeated write unspecified)
IDX = rng.integers(0, 4, (2, 3, 5))
IDX_SMALL = rng.integers(0, 3, (2, 2, 3))
PERM = np.argsort(rng.standard_normal((2, 3, 4)), axis=1)
Y5 = rng.standard_normal((2, 3, 5))
SRC_WITH_ZEROS = Y5 * (rng.random((2, 3, 5)) > 0.3)  # products with one zero, and with two


def _long(m, a):
    return m.tensor(a, dtype=m.int64)


def _scatter_ref(x, dim, index, values, add=False):
    out = x.copy()
    coords = list(np.indices(index.shape, sparse=True))
    coords[dim] = index
    src = values if np.isscalar(values) else values[tuple(slice(0, n) for n in index.shape)]
    (np.add.at(out, tuple(coords), src) if add else out.__setitem__(tuple(coords), src))
    return out


def _scatter_reduce_ref(x, dim, index, src, reduce, include_self):
    """Direct loop: the values each position receives, reduced with its own if include_self."""
    received = {}
    for p in np.ndindex(index.shape):
        target = p[:dim] + (index[p],) + p[dim + 1:]
        received.setdefault(target, []).append(src[p])
    out = x.copy()
    for target, values in received.items():
        values = ([x[target]] if include_self else []) + values
        out[target] = {"sum": np.sum, "prod": np.prod, "mean": np.mean, "amax": np.max,
                       "amin": np.min}[reduce](values)
    return out


def _lower_median(a, axis):
    return np.take(np.sort(a, axis), (a.shape[axis] - 1) // 2, axis)


# name -> (fn(mod, *tensors), NumPy reference, inputs as (array, differentiable))
CASES = {
    "sort": (lambda m, x: m.sort(x, 1).values, lambda x: np.sort(x, 1), [(X, True)]),
    "sort_descending": (lambda m, x: x.sort(dim=-1, descending=True)[0],
                        lambda x: -np.sort(-x, -1), [(X, True)]),
    "msort": (lambda m, x: m.msort(x), lambda x: np.sort(x, 0), [(X, True)]),
    "topk": (lambda m, x: x.topk(2).values, lambda x: -np.sort(-x, -1)[..., :2], [(X, True)]),
    "topk_smallest_dim0": (lambda m, x: m.topk(x, 1, dim=0, largest=False)[0],
                           lambda x: np.sort(x, 0)[:1], [(X, True)]),
    "kthvalue": (lambda m, x: x.kthvalue(2, 1).values, lambda x: np.sort(x, 1)[:, 1],
                 [(X, True)]),
    "kthvalue_keepdim": (lambda m, x: m.kthvalue(x, 3, dim=2, keepdim=True).values,
                         lambda x: np.sort(x, 2)[..., 2:3], [(X, True)]),
    "median_all": (lambda m, x: x.median(), lambda x: np.sort(x.ravel())[11], [(X, True)]),
    "median_dim_even": (lambda m, x: m.median(x, 2).values, lambda x: _lower_median(x, 2),
                        [(X, True)]),
    "median_dim_odd_keepdim": (lambda m, x: x.median(1, keepdim=True).values,
                               lambda x: np.sort(x, 1)[:, 1:2], [(X, True)]),
    "gather": (lambda m, x: x.gather(2, _long(m, IDX)),
               lambda x: np.take_along_axis(x, IDX, 2), [(X, True)]),
    "gather_smaller_index": (lambda m, x: m.gather(x, 1, _long(m, IDX_SMALL)),
                             lambda x: np.take_along_axis(x[:, :, :3], IDX_SMALL, 1),
                             [(X, True)]),
    "scatter_src": (lambda m, x, y: x.scatter(1, _long(m, PERM[:, :2]), y),
                    lambda x, y: _scatter_ref(x, 1, PERM[:, :2], y),
                    [(X, True), (Y[:, :2], True)]),
    "scatter_src_larger_than_index": (lambda m, x, y: x.scatter(1, _long(m, PERM[:, :2]), y),
                                      lambda x, y: _scatter_ref(x, 1, PERM[:, :2], y),
                                      [(X, True), (Y, True)]),
    "scatter_value": (lambda m, x: m.scatter(x, 1, _long(m, PERM[:, :2]), 2.5),
                      lambda x: _scatter_ref(x, 1, PERM[:, :2], 2.5), [(X, True)]),
    "scatter_add": (lambda m, x, y: m.scatter_add(x, 2, _long(m, IDX[..., :4]), y),
                    lambda x, y: _scatter_ref(x, 2, IDX[..., :4], y, add=True),
                    [(X, True), (Y, True)]),
    **{f"scatter_reduce_{reduce}_{'self' if include else 'no_self'}": (
        lambda m, x, y, r=reduce, i=include: x.scatter_reduce(2, _long(m, IDX), y, r,
                                                             include_self=i),
        lambda x, y, r=reduce, i=include: _scatter_reduce_ref(x, 2, IDX, y, r, i),
        [(X, True), (SRC_WITH_ZEROS if reduce == "prod" else Y5, True)])
       for reduce in ("sum", "prod", "mean", "amax", "amin") for include in (True, False)},
    "index_select": (lambda m, x: m.index_select(x, 2, _long(m, [3, 0, 3])),
                     lambda x: np.take(x, [3, 0, 3], 2), [(X, True)]),
    "index_select_scalar_index": (lambda m, x: x.index_select(0, _long(m, 1)),
                                  lambda x: x[1:2], [(X, True)]),
    "index_add_repeats_alpha": (lambda m, x, y: m.index_add(x, 1, _long(m, [2, 0, 2]), y,
                                                            alpha=1.5),
                                lambda x, y: _scatter_ref(x, 1, np.broadcast_to(
                                    np.array([2, 0, 2])[:, None], (2, 3, 4)), 1.5 * y, add=True),
                                [(X, True), (Y, True)]),
    "index_copy": (lambda m, x, y: x.index_copy(2, _long(m, [3, 0]), y),
                   lambda x, y: _scatter_ref(x, 2, np.broadcast_to([3, 0], (2, 3, 2)), y),
                   [(X, True), (Y[..., :2], True)]),
    "index_fill": (lambda m, x: x.index_fill(1, _long(m, [2, 0]), -0.5),
                   lambda x: np.where(np.isin(np.arange(3), [2, 0])[:, None], -0.5, x),
                   [(X, True)]),
    "index_fill_tensor_value": (lambda m, x, v: m.index_fill(x, 0, _long(m, 1), v),
                                lambda x, v: np.concatenate([x[:1], np.full_like(x[1:], v)]),
                                [(X, True), (Y[0, 0, 0], True)]),
    "masked_fill": (lambda m, x: x.masked_fill(m.tensor(MASK), -1.5),
                    lambda x: np.where(MASK, -1.5, x), [(X, True)]),
    "masked_fill_tensor_value": (lambda m, x, v: m.masked_fill(x, m.tensor(MASK), v),
                                 lambda x, v: np.where(MASK, v, x),
                                 [(X, True), (Y[0, 0, 0], True)]),
    "masked_select": (lambda m, x: m.masked_select(x, m.tensor(MASK)),
                      lambda x: x[np.broadcast_to(MASK, x.shape)], [(X, True)]),
    "masked_select_broadcast_input": (lambda m, x: x.masked_select(m.tensor(MASK)),
                                      lambda x: np.broadcast_to(x, MASK.shape)[MASK],
                                      [(X[0, :, :1], True)]),
    "take": (lambda m, x: m.take(x, _long(m, [[0, 23], [-1, 5], [5, 5]])),
             lambda x: x.ravel()[[[0, 23], [-1, 5], [5, 5]]], [(X, True)]),
}


# PyTorch's own backward rejects these (its src gradient takes index's shape), so only their
# forward is compared with it; gradcheck still checks ember's gradients.
NO_PYTORCH_GRADIENT = {"scatter_src_larger_than_index"}
# PyTorch adds alpha * source in another order (or fused): equal to float64 rounding only.
ROUNDED_DIFFERENTLY = {"index_add_repeats_alpha"}


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_numpy(name):
    check_forward(CASES[name], name, tol=0)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    check_gradcheck(CASES[name])


@pytest.mark.parametrize("name", CASES)
def test_float32_agrees_with_float64(name):
    check_float32(CASES[name], name)


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch_forward_and_gradients(name):
    check_pytorch(CASES[name], name, tol=1e-15 if name in ROUNDED_DIFFERENTLY else 0,
                  grad_tol=1e-12,
                  with_gradients=name not in NO_PYTORCH_GRADIENT)


# ---- indices and return types ---------------------------------------------------------------
INDEXED = {
    "sort": lambda m, x: m.sort(x, 1),
    "sort_descending": lambda m, x: x.sort(descending=True),
    "topk": lambda m, x: x.topk(3, dim=1),
    "topk_smallest": lambda m, x: m.topk(x, 2, largest=False),
    "kthvalue": lambda m, x: x.kthvalue(2, 0),
    "median": lambda m, x: x.median(-1),
    "median_keepdim": lambda m, x: m.median(x, 1, keepdim=True),
    "mode": lambda m, x: m.mode(x.round(), 2),
    "max_axis_keepdims": lambda m, x: m.max(x, axis=1, keepdims=True),
}


@pytest.mark.parametrize("name", INDEXED)
def test_values_and_indices_match_pytorch(name):
    torch = pytest.importorskip("torch")
    out, ref = INDEXED[name](ember, ember.tensor(X)), INDEXED[name](torch, torch.tensor(X))
    values, indices = out  # unpacks as a pair, as torch.return_types do
    assert out.values is values and out.indices is indices
    assert type(out).__name__ == type(ref).__name__
    assert indices.dtype == ember.int64
    assert_close(values, ref.values.numpy(), rtol=0, atol=0)
    assert indices.tolist() == ref.indices.tolist()


def test_argsort_is_stable_and_matches_pytorch_with_ties():
    torch = pytest.importorskip("torch")
    data = [[2, 1, 2, 0, 1, 2], [5, 5, 5, 5, 5, 5]]
    for descending in (False, True):
        ours = ember.argsort(ember.tensor(data), descending=descending, stable=True)
        theirs = torch.argsort(torch.tensor(data), descending=descending, stable=True)
        assert ours.dtype == ember.int64 and ours.tolist() == theirs.tolist()
        ours = ember.tensor(data).sort(0, descending)
        theirs = torch.tensor(data).sort(dim=0, descending=descending, stable=True)
        assert ours.indices.tolist() == theirs.indices.tolist()


def test_nan_sorts_as_the_largest_value_as_in_pytorch():
    torch = pytest.importorskip("torch")
    data = [[1.0, np.nan, 3.0, -2.0, np.nan], [0.5, 4.0, -1.0, 2.0, 1.0]]
    for fn in (lambda m, t: m.sort(t, descending=True), lambda m, t: m.sort(t),
               lambda m, t: m.topk(t, 2), lambda m, t: m.topk(t, 2, largest=False),
               lambda m, t: m.median(t, 1)):
        ours, theirs = fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data))
        assert_close(ours.values, theirs.values.numpy(), rtol=0, atol=0, equal_nan=True)
        assert ours.indices.tolist() == theirs.indices.tolist()
    assert np.isnan(ember.tensor(data).median().item())


def test_median_of_all_elements_shares_the_gradient_of_ties_as_pytorch():
    torch = pytest.importorskip("torch")
    data = [2.0, 1.0, 2.0, 0.0, 2.0]
    x, t = ember.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    assert x.median().item() == t.median().item() == 2.0
    x.median().backward()
    t.median().backward()
    assert_close(x.grad, t.grad.numpy())


def test_median_mode_and_sort_of_integers_keep_the_dtype():
    torch = pytest.importorskip("torch")
    data = [[3, 1, 2, 5, 1, 3], [0, 0, 7, 7, 7, 1]]
    assert ember.tensor(data).median().item() == torch.tensor(data).median().item()
    for fn in (lambda m, t: m.mode(t), lambda m, t: m.median(t, 1), lambda m, t: t.sort()):
        ours, theirs = fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data))
        assert ours.values.dtype == ember.int64
        assert ours.values.tolist() == theirs.values.tolist()
        assert ours.indices.tolist() == theirs.indices.tolist()


def test_zero_dim_tensors_sort_and_select_like_pytorch():
    torch = pytest.importorskip("torch")
    for fn in (lambda m, t: m.sort(t), lambda m, t: m.topk(t, 1), lambda m, t: m.median(t, 0),
               lambda m, t: m.kthvalue(t, 1)):
        ours, theirs = fn(ember, ember.tensor(3.0)), fn(torch, torch.tensor(3.0))
        assert ours.values.shape == theirs.values.shape == ()
        assert ours.values.item() == 3.0 and ours.indices.item() == 0


def test_gather_and_scatter_accept_int32_indices_and_scatter_add_accumulates_repeats():
    x = ember.zeros(2, 3)
    idx = ember.tensor([[0, 0, 2], [1, 1, 1]], dtype=ember.int32)
    out = x.scatter_add(1, idx, ember.ones(2, 3))
    assert out.tolist() == [[2.0, 0.0, 1.0], [0.0, 3.0, 0.0]]
    assert out.gather(1, idx).tolist() == [[2.0, 2.0, 1.0], [3.0, 3.0, 3.0]]


def test_scatter_reduce_add_and_multiply_match_pytorch():
    torch = pytest.importorskip("torch")
    index = [[0, 0, 2], [1, 1, 0]]
    for reduce in ("add", "multiply"):
        for value in (2.0, None):
            def run(m):
                base = m.tensor(np.arange(1.0, 7.0).reshape(2, 3))
                src = value if value is not None else m.tensor(X[0, :2, :3])
                with warnings.catch_warnings():  # PyTorch deprecates reduce= with a src tensor
                    warnings.simplefilter("ignore")
                    return base.scatter(1, m.tensor(index), src, reduce=reduce)
            assert_close(run(ember), run(torch).numpy(), msg=f"{reduce} {value}")


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin", "max", "min"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_of_integers_matches_pytorch(reduce, include_self):
    def fn(m, t):
        return t.scatter_reduce(0, m.tensor([0, 0, 1, 1, 1]), m.tensor([5, 6, 7, 8, 9]), reduce,
                                include_self=include_self)
    check_exactly_as_pytorch(fn, [1, 2, 3, 4])


def test_scatter_multiply_has_no_gradient_as_in_pytorch():
    x = ember.ones(3, dtype=ember.float64, requires_grad=True)
    out = x.scatter(0, ember.tensor([0]), 2.0, reduce="multiply")
    with pytest.raises(NotImplementedError, match="multiply"):
        out.sum().backward()


def test_in_place_forms_write_into_the_tensor_and_record_gradients():
    torch = pytest.importorskip("torch")

    def run(m, a):
        leaf = m.tensor(a, requires_grad=True)
        y = leaf * 1.0
        y.masked_fill_(m.tensor(MASK), 0.25)
        y.scatter_(1, m.tensor(PERM[0, :1, :]), 3.0)
        y.scatter_add_(0, m.tensor(IDX[0, :2, :4] % 3), leaf[:2] * 2)
        (y * y).sum().backward()
        return y, leaf.grad

    (y, g), (ty, tg) = run(ember, X[0]), run(torch, X[0])
    assert_close(y, ty.detach().numpy())
    assert_close(g, tg.numpy())
    def run_index_updates(m, a):
        leaf = m.tensor(a, requires_grad=True)
        y = leaf * 1.0
        y.index_fill_(1, m.tensor([0]), 0.5)
        y.index_copy_(0, m.tensor([2]), leaf[:1] * 3)
        y.index_add_(1, m.tensor([3, 3]), leaf[:, :2], alpha=-2)
        (y * y).sum().backward()
        return y, leaf.grad

    (y, g), (ty, tg) = run_index_updates(ember, X[0]), run_index_updates(torch, X[0])
    assert_close(y, ty.detach().numpy())
    assert_close(g, tg.numpy())
    plain = ember.tensor(X[0])
    alias = plain.view(12)
    assert plain.masked_fill_(ember.tensor(MASK), 0.0) is plain
    assert_close(alias, np.where(MASK, 0.0, X[0]).reshape(12), rtol=0, atol=0)


def test_masked_fill_keeps_the_input_dtype():
    for data, value in (([0, 1, 2], 2.5), ([0.5, 1.5, 2.5], 7)):
        mask = [False, True, True]
        check_exactly_as_pytorch(lambda m, t: t.masked_fill(m.tensor(mask), value), data)


# ---- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, message", [
    (lambda x: x.gather(1, ember.tensor([[5]])), "gather.*index 5.*dimension 1 with size 3"),
    (lambda x: x.gather(1, ember.tensor([[-1]])), "gather.*index -1"),
    (lambda x: x.scatter(1, ember.tensor([[3]]), 1.0), "scatter.*index 3"),
    (lambda x: ember.scatter_add(x, 0, ember.tensor([[2, 0, 0]]), x), "scatter_add.*index 2"),
    (lambda x: x.index_select(1, ember.tensor([0, 3])), "index_select.*index 3"),
    (lambda x: ember.index_select(x, 0, ember.tensor([[0]])), "index_select.*vector"),
    (lambda x: ember.take(x, ember.tensor([6])), "take.*index 6"),
    (lambda x: ember.take(x, ember.tensor([-7])), "take.*index -7"),
    (lambda x: x.sort(2), "Dimension out of range"),
    (lambda x: ember.topk(x, 1, dim=-3), "Dimension out of range"),
])
def test_out_of_range_indices_raise_index_error(fn, message):
    with pytest.raises(IndexError, match=message) as err:
        fn(ember.zeros(2, 3))
    if "shape" in str(err.value):
        assert "(2, 3)" in str(err.value)


@pytest.mark.parametrize("fn, error, message", [
    (lambda x: x.gather(1, ember.tensor([0, 1])), ember.ShapeError, r"gather.*\(2, 3\).*\(2,\)"),
    (lambda x: x.gather(1, ember.zeros(3, 1, dtype=ember.int64)), ember.ShapeError,
     r"gather.*\(2, 3\).*\(3, 1\)"),
    (lambda x: x.gather(1, ember.tensor([[0.0]])), RuntimeError, "gather.*integer index"),
    (lambda x: x.scatter(0, ember.tensor([[0, 1, 0, 1]]), ember.ones(2, 3)), ember.ShapeError,
     "scatter"),
    (lambda x: x.scatter(0, ember.tensor([[0]]), ember.ones(1, 1, dtype=ember.float64)),
     RuntimeError, "scatter.*dtype"),
    (lambda x: x.scatter(1, ember.tensor([[0]]), ember.ones(3)), ember.ShapeError,
     r"scatter.*src.*\(2, 3\).*\(1, 1\).*\(3,\)"),
    (lambda x: x.scatter(0, ember.tensor([[0]]), 1.0, reduce="mean"), RuntimeError,
     "add or multiply"),
    (lambda x: x.scatter(0, ember.tensor([[0]])), TypeError, "src"),
    (lambda x: x.scatter_reduce(0, ember.tensor([[0]]), x, "median"), RuntimeError,
     "sum, prod, mean, amax or amin"),
    (lambda x: x.scatter_reduce(0, ember.tensor([[0]]), 1.0, "sum"), TypeError, "src"),
    (lambda x: x.scatter_reduce(1, ember.tensor([[3]]), x, "sum"), IndexError,
     "scatter_reduce.*index 3"),
    (lambda x: x.masked_fill(ember.ones(2, 3, dtype=ember.uint8), 1.0), RuntimeError,
     "boolean masks"),
    (lambda x: x.masked_fill(x > 0, ember.tensor([1.0])), RuntimeError, "0-dimensional"),
    (lambda x: x.masked_fill(ember.tensor([True, False]), 1.0), ember.ShapeError,
     r"masked_fill.*\(2,\).*\(2, 3\)"),
    (lambda x: x.masked_select(ember.ones(4, dtype=ember.bool)), ember.ShapeError,
     "masked_select"),
    (lambda x: x.index_add(1, ember.tensor([0]), ember.ones(2, 2)), ember.ShapeError,
     r"index_add.*\(2, 3\).*\(1,\).*\(2, 2\)"),
    (lambda x: x.index_copy(0, ember.tensor([1]), ember.ones(1, 3, dtype=ember.float64)),
     RuntimeError, "index_copy.*dtype"),
    (lambda x: x.index_fill(0, ember.tensor([2]), 1.0), IndexError, "index_fill.*index 2"),
    (lambda x: x.index_add(0, ember.tensor([[0]]), x), IndexError, "index_add.*vector"),
    (lambda x: (x * 1).add_(ember.ones(2, 2, 3)), RuntimeError, r"add_.*\(2, 3\).*\(2, 2, 3\)"),
    (lambda x: x.masked_fill_(ember.ones(4, 1, 1, dtype=ember.bool), 1.0), RuntimeError,
     r"masked_fill_.*\(4, 2, 3\)"),
    (lambda x: x.topk(4), RuntimeError, r"topk.*k=4.*size 3.*\(2, 3\)"),
    (lambda x: x.kthvalue(0), RuntimeError, "kthvalue.*k=0"),
    (lambda x: x.sort(dim=(0, 1)), TypeError, "sort"),
])
def test_bad_arguments_raise_clear_errors(fn, error, message):
    with pytest.raises(error, match=message):
        fn(ember.zeros(2, 3))


def test_reducing_an_empty_dimension_raises():
    with pytest.raises(IndexError, match=r"median.*size 0.*\(2, 0\)"):
        ember.zeros(2, 0).median(1)
    with pytest.raises(IndexError, match="mode"):
        ember.zeros(2, 0).mode(1)
