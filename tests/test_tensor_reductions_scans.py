"""all/any, cumsum/cumprod, norms (Tensor.norm, ember.linalg), where forms, counting (nonzero,
count_nonzero, bincount, unique) and the axis=/keepdims= aliases: NumPy forward, float64
gradcheck, PyTorch parity, bad input."""
import math
import warnings

import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck
from index_op_checks import (check_exactly_as_pytorch, check_float32, check_forward,
                             check_gradcheck, check_pytorch)

rng = np.random.default_rng(88)
X = rng.standard_normal((2, 3, 4))
Y = rng.standard_normal((2, 3, 4))
WITH_ZEROS = X.copy()
WITH_ZEROS[0, 1, 1] = WITH_ZEROS[1, 0, 0] = WITH_ZEROS[1, 0, 2] = WITH_ZEROS[1, 2, 3] = 0.0
INF = math.inf
WITH_NANS = X.copy()
WITH_NANS[0, 1, 2] = WITH_NANS[1, 0, 0] = WITH_NANS[1, 0, 3] = math.nan  # no row all NaN


def _lower_nanmedian(x, axis=None):
    def lower(v):
        v = np.sort(v[~np.isnan(v)])
        return v[(v.size - 1) // 2]
    return lower(x.ravel()) if axis is None else np.apply_along_axis(lower, axis, x)


def _pnorm(x, p, axis=None, keepdims=False):
    return np.sum(np.abs(x) ** p, axis=axis, keepdims=keepdims) ** (1 / p)


def _svd(x):
    return np.linalg.svd(x, compute_uv=False)


# name -> (fn(mod, *tensors), NumPy reference, inputs as (array, differentiable))
CASES = {
    "cumsum": (lambda m, x: m.cumsum(x, 1), lambda x: np.cumsum(x, 1), [(X, True)]),
    "cumsum_neg_dim": (lambda m, x: x.cumsum(dim=-1), lambda x: np.cumsum(x, -1), [(X, True)]),
    "cumprod": (lambda m, x: x.cumprod(2), lambda x: np.cumprod(x, 2), [(X, True)]),
    "cumprod_with_zeros": (lambda m, x: m.cumprod(x, -1), lambda x: np.cumprod(x, -1),
                           [(WITH_ZEROS, True)]),
    "cumprod_with_zeros_dim0": (lambda m, x: x.cumprod(0), lambda x: np.cumprod(x, 0),
                                [(WITH_ZEROS, True)]),
    "prod": (lambda m, x: x.prod(), lambda x: np.prod(x), [(X, True)]),
    "prod_dim_with_zeros": (lambda m, x: m.prod(x, 2), lambda x: np.prod(x, 2),
                            [(WITH_ZEROS, True)]),
    "prod_dim0_keepdim_with_zeros": (lambda m, x: x.prod(0, keepdim=True),
                                     lambda x: np.prod(x, 0, keepdims=True),
                                     [(WITH_ZEROS, True)]),
    "prod_all_with_one_zero": (lambda m, x: x.prod(), np.prod, [(WITH_ZEROS[0], True)]),
    "prod_all_with_two_zeros": (lambda m, x: m.prod(x), np.prod, [(WITH_ZEROS[1], True)]),
    "prod_0d": (lambda m, x: x.prod(0), lambda x: x, [(X[0, 0, 0], True)]),
    "cummax": (lambda m, x: x.cummax(1).values, lambda x: np.maximum.accumulate(x, 1),
               [(X, True)]),
    "cummin_neg_dim": (lambda m, x: m.cummin(x, -1)[0], lambda x: np.minimum.accumulate(x, -1),
                       [(X, True)]),
    "nansum": (lambda m, x: m.nansum(x), np.nansum, [(WITH_NANS, True)]),
    "nansum_dim_keepdim": (lambda m, x: x.nansum(2, keepdim=True),
                           lambda x: np.nansum(x, 2, keepdims=True), [(WITH_NANS, True)]),
    "nanmean": (lambda m, x: x.nanmean(), np.nanmean, [(WITH_NANS, True)]),
    "nanmean_dims": (lambda m, x: m.nanmean(x, (0, 2)), lambda x: np.nanmean(x, (0, 2)),
                     [(WITH_NANS, True)]),
    "nanmedian": (lambda m, x: m.nanmedian(x), _lower_nanmedian, [(WITH_NANS, True)]),
    "nanmedian_dim": (lambda m, x: x.nanmedian(2).values, lambda x: _lower_nanmedian(x, 2),
                      [(WITH_NANS, True)]),
    "norm": (lambda m, x: x.norm(), lambda x: np.sqrt(np.sum(x * x)), [(X, True)]),
    "norm_p1_dim": (lambda m, x: x.norm(1, dim=1), lambda x: np.abs(x).sum(1), [(X, True)]),
    "norm_p3_all": (lambda m, x: m.norm(x, 3), lambda x: _pnorm(x, 3), [(X, True)]),
    "norm_p_half_dims_keepdim": (lambda m, x: x.norm(0.5, dim=(0, 2), keepdim=True),
                                 lambda x: _pnorm(x, 0.5, (0, 2), True), [(X, True)]),
    "norm_inf_dim": (lambda m, x: x.norm(INF, dim=2), lambda x: np.abs(x).max(2), [(X, True)]),
    "norm_neg_inf": (lambda m, x: x.norm(-INF), lambda x: np.abs(x).min(), [(X, True)]),
    "norm_fro_dims": (lambda m, x: x.norm("fro", dim=(1, 2)),
                      lambda x: np.sqrt((x * x).sum((1, 2))), [(X, True)]),
    "norm_nuc_2d": (lambda m, x: x.norm("nuc"), lambda x: _svd(x).sum(), [(X[0], True)]),
    "vector_norm": (lambda m, x: m.linalg.vector_norm(x, dim=-1, keepdim=True),
                    lambda x: np.sqrt((x * x).sum(-1, keepdims=True)), [(X, True)]),
    "linalg_norm_default": (lambda m, x: m.linalg.norm(x), lambda x: np.sqrt((x * x).sum()),
                            [(X, True)]),
    "linalg_norm_ord1_vector_dim": (lambda m, x: m.linalg.norm(x, 1, dim=0),
                                    lambda x: np.abs(x).sum(0), [(X, True)]),
    "matrix_norm_fro": (lambda m, x: m.linalg.matrix_norm(x),
                        lambda x: np.linalg.norm(x, "fro", axis=(-2, -1)), [(X, True)]),
    "matrix_norm_nuc": (lambda m, x: m.linalg.matrix_norm(x, "nuc"),
                        lambda x: np.linalg.norm(x, "nuc", axis=(-2, -1)), [(X, True)]),
    "matrix_norm_2_keepdim": (lambda m, x: m.linalg.matrix_norm(x, 2, keepdim=True),
                              lambda x: _svd(x).max(-1)[:, None, None], [(X, True)]),
    "matrix_norm_neg2_dims": (lambda m, x: m.linalg.matrix_norm(x, -2, dim=(0, 2)),
                              lambda x: _svd(x.transpose(1, 0, 2)).min(-1), [(X, True)]),
    "matrix_norm_1": (lambda m, x: m.linalg.matrix_norm(x, 1),
                      lambda x: np.linalg.norm(x, 1, axis=(-2, -1)), [(X, True)]),
    "matrix_norm_neg1": (lambda m, x: m.linalg.matrix_norm(x, -1),
                         lambda x: np.linalg.norm(x, -1, axis=(-2, -1)), [(X, True)]),
    "matrix_norm_inf_keepdim": (lambda m, x: m.linalg.matrix_norm(x, INF, keepdim=True),
                                lambda x: np.linalg.norm(x, INF, axis=(-2, -1))[:, None, None],
                                [(X, True)]),
    "matrix_norm_neg_inf_dims": (lambda m, x: m.linalg.matrix_norm(x, -INF, dim=(2, 0)),
                                 lambda x: np.linalg.norm(x, -INF, axis=(2, 0)), [(X, True)]),
    "linalg_norm_2d_ord2": (lambda m, x: m.linalg.norm(x, 2), lambda x: _svd(x).max(),
                            [(X[1], True)]),
    "svdvals": (lambda m, x: m.linalg.svdvals(x), _svd, [(X, True)]),
    "where": (lambda m, x, y: m.where(x > 0, x, y), lambda x, y: np.where(x > 0, x, y),
              [(X, True), (Y, True)]),
    "where_scalar_other": (lambda m, x: m.where(x > 0, x, 0.5),
                           lambda x: np.where(x > 0, x, 0.5), [(X, True)]),
    "where_scalar_input_broadcast": (lambda m, x, y: m.where(x > 0, 2.0, y),
                                     lambda x, y: np.where(x > 0, 2.0, y),
                                     [(X, False), (Y[0, 0], True)]),
    "where_method": (lambda m, x, y: x.where(y > 0, y), lambda x, y: np.where(y > 0, x, y),
                     [(X, True), (Y, True)]),
    "sum_axis_keepdims": (lambda m, x: x.sum(axis=(0, 2), keepdims=True),
                          lambda x: x.sum((0, 2), keepdims=True), [(X, True)]),
    "mean_axis": (lambda m, x: m.mean(x, axis=1), lambda x: x.mean(1), [(X, True)]),
    "max_axis_values": (lambda m, x: x.max(axis=1, keepdims=True).values,
                        lambda x: x.max(1, keepdims=True), [(X, True)]),
    "amin_axis": (lambda m, x: m.amin(x, axis=-1, keepdims=True),
                  lambda x: x.min(-1, keepdims=True), [(X, True)]),
    "std_axis": (lambda m, x: x.std(axis=0, keepdims=True), lambda x: x.std(0, ddof=1,
                                                                             keepdims=True),
                 [(X, True)]),
    "var_axis": (lambda m, x: m.var(x, axis=2), lambda x: x.var(2, ddof=1), [(X, True)]),
    "logsumexp_axis": (lambda m, x: x.logsumexp(axis=1),
                       lambda x: np.log(np.exp(x).sum(1)), [(X, True)]),
    "topk_axis": (lambda m, x: x.topk(2, axis=0).values, lambda x: np.sort(x, 0)[::-1],
                  [(X, True)]),
    "cumsum_axis": (lambda m, x: m.cumsum(x, axis=2), lambda x: np.cumsum(x, 2), [(X, True)]),
}


@pytest.mark.parametrize("name", CASES)
def test_forward_matches_numpy(name):
    check_forward(CASES[name], name, tol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    check_gradcheck(CASES[name])


@pytest.mark.parametrize("name", CASES)
def test_float32_agrees_with_float64(name):
    check_float32(CASES[name], name, tol=2e-5)


@pytest.mark.parametrize("name", CASES)
def test_matches_pytorch_forward_and_gradients(name):
    check_pytorch(CASES[name], name, tol=1e-12, grad_tol=1e-10)


# ---- norms at awkward points -----------------------------------------------------------------
@pytest.mark.parametrize("data, p", [
    ([0.0, 0.0, 0.0], 2), ([0.0, 0.0, 0.0], 1), ([0.0, 0.0, 0.0], 3), ([0.0, 2.0, -1.0], 0.5),
    ([0.0, 2.0, -1.0], 0), ([1.0, -3.0, 3.0], INF), ([1.0, -3.0, 1.0], -INF),
    ([0.0, 0.0, 0.0], INF), ([0.0, 2.0, 0.0], 2),
])
def test_norm_gradients_at_zeros_and_ties_match_pytorch(data, p):
    torch = pytest.importorskip("torch")
    x = ember.tensor(data, dtype=ember.float64, requires_grad=True)
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    x.norm(p).backward()
    t.norm(p).backward()
    if p == 0:  # piecewise constant: PyTorch leaves .grad unset
        assert x.grad is None and t.grad is None
        return
    assert_close(x.grad, t.grad.numpy(), equal_nan=True)


def test_norm_of_float32_stays_float32_and_dtype_casts_first():
    x = ember.tensor(X, dtype=ember.float32)
    assert x.norm().dtype == ember.float32
    assert x.norm(dtype=ember.float64).dtype == ember.float64
    assert ember.linalg.vector_norm(x, dtype=ember.float64).dtype == ember.float64


@pytest.mark.parametrize("fn, message", [
    (lambda: ember.arange(3).norm(), "vector_norm.*floating point"),
    (lambda: ember.linalg.matrix_norm(ember.ones(3)), "at least 2 dimensions"),
    (lambda: ember.linalg.matrix_norm(ember.ones(2, 2), 3), "Order 3 not supported"),
    (lambda: ember.linalg.matrix_norm(ember.ones(2, 2), dim=(1, 1)), "different"),
    (lambda: ember.linalg.norm(ember.ones(2, 2, 2), 2), "1D or 2D"),
    (lambda: ember.linalg.norm(ember.ones(2, 2, 2), dim=(0, 1, 2)), "length 1 or 2"),
    (lambda: ember.ones(2, 2, 2).norm("nuc"), "dim must be a 2-tuple"),
    (lambda: ember.ones(2).norm("fro", dim=(0, 0, 0)), "matrix_norm"),
    (lambda: ember.linalg.vector_norm(ember.ones(2), "fro"), "ord must be a number"),
    (lambda: ember.linalg.vector_norm(ember.ones(0), -INF), "empty"),
])
def test_bad_norm_arguments_raise_runtime_error(fn, message):
    with pytest.raises(RuntimeError, match=message):
        fn()


def test_norm_out_argument_is_refused():
    with pytest.raises(NotImplementedError, match="out="):
        ember.norm(ember.ones(2), out=ember.ones(()))


# ---- all / any -------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m, t: t.all(), lambda m, t: m.any(t), lambda m, t: t.all(dim=1),
    lambda m, t: m.any(t, 0, keepdim=True), lambda m, t: t.any(dim=(0, 2)),
    lambda m, t: t.all(keepdim=True), lambda m, t: t.all(axis=-1, keepdims=True),
    lambda m, t: (t > -5).all(), lambda m, t: t.bool().any(1), lambda m, t: t.to(m.uint8).all(1),
])
def test_all_and_any_match_numpy_and_pytorch(fn):
    check_exactly_as_pytorch(fn, np.array([[[1, 0, 2, 3], [0, 0, 0, 0], [4, 5, 6, 7]],
                                           [[1, 1, 1, 1], [0, 9, 0, 0], [2, 2, 0, 2]]]))


def test_all_of_a_comparison_is_a_python_bool_with_item():
    pred, y = ember.tensor([1, 2, 3]), ember.tensor([1, 2, 3])
    assert (pred == y).all().item() is True
    assert (pred == y + 1).any().item() is False
    assert bool((pred == y).all()) and not (pred == y + 1).all()
    assert ember.all(ember.tensor([0.5, 2.0])).dtype == ember.bool
    assert not ember.tensor([1.0], requires_grad=True).all().requires_grad


def test_all_rejects_an_out_of_range_dim():
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.ones(2, 3).all(2)


# ---- cumsum / cumprod dtypes -----------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m, t: m.cumsum(t.to(m.int32), 0), lambda m, t: t.bool().cumsum(0),
    lambda m, t: t.to(m.uint8).cumprod(0), lambda m, t: m.cumsum(t, 0, dtype=m.float64),
    lambda m, t: t.cumprod(-1, dtype=m.float32), lambda m, t: m.cumsum(t[0, 0], 0),
])
def test_cumulative_dtypes_match_pytorch(fn):
    check_exactly_as_pytorch(fn, np.array([[1, 0, 2], [3, 1, 1]]))


@pytest.mark.parametrize("fn", [
    lambda m, t: t.to(m.int32).prod(), lambda m, t: m.prod(t.bool(), 1),
    lambda m, t: t.prod(0, dtype=m.float64), lambda m, t: m.prod(t, -1, True),
])
def test_prod_dtypes_match_pytorch(fn):
    check_exactly_as_pytorch(fn, np.array([[1, 4, 2], [3, 1, 5]]))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "all", "any",
                                  "count_nonzero", "norm", "logsumexp", "cumsum", "cumprod"])
def test_a_zero_dim_tensor_reduces_over_dim_0_and_minus_1_as_pytorch(name):
    torch = pytest.importorskip("torch")
    for dim in (0, -1):
        ours = getattr(ember, name)(ember.tensor(2.5), dim=dim)
        theirs = getattr(torch, name)(torch.tensor(2.5), dim=dim)
        assert ours.shape == () and ours.item() == theirs.item(), (name, dim)
    with pytest.raises(IndexError, match="Dimension out of range"):
        getattr(ember, name)(ember.tensor(2.5), dim=1)


def test_prod_takes_one_dim_as_pytorch():
    with pytest.raises(TypeError, match="single int"):
        ember.ones(2, 2).prod((0, 1))


@pytest.mark.parametrize("fn", [
    lambda m, t: m.cummax(t, 1), lambda m, t: t.cummin(0), lambda m, t: t.float().cummax(-1),
    lambda m, t: m.cummin(t[0, 0], 0),
])
def test_cummax_cummin_indices_take_the_latest_tie_as_pytorch(fn):
    check_exactly_as_pytorch(fn, np.array([[1, 3, 3, 2, 3, 0], [2, 2, 1, 1, 5, 5]]))


def test_cummax_cummin_with_nan_match_pytorch():
    torch = pytest.importorskip("torch")
    data = [1.0, 3.0, 3.0, 2.0, math.nan, 5.0, math.nan, 1.0]
    for name in ("cummax", "cummin"):
        ours = getattr(ember, name)(ember.tensor(data), 0)
        theirs = getattr(torch, name)(torch.tensor(data), 0)
        assert_close(ours.values, theirs.values.numpy(), equal_nan=True)
        assert ours.indices.tolist() == theirs.indices.tolist()


def test_nan_reductions_of_all_nan_rows_and_integers_match_pytorch():
    torch = pytest.importorskip("torch")
    data = [[1.0, math.nan, 3.0, 2.0], [math.nan] * 4, [4.0, 1.0, math.nan, 0.0]]
    for fn in (lambda m, t: m.nanmean(t, 1), lambda m, t: t.nansum(1),
               lambda m, t: m.nanmedian(t, 1).values, lambda m, t: m.nanmedian(t[1])):
        assert_close(fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data)).numpy(),
                     equal_nan=True)
    ours = ember.nanmedian(ember.tensor(data), 1).indices.tolist()
    assert ours[0] == 3 and ours[2] == 1 and np.isnan(data[1][ours[1]])
    check_exactly_as_pytorch(lambda m, t: m.nansum(t, 0), np.array([[1, 2], [3, 4]]))
    with pytest.raises(RuntimeError, match="nanmean.*floating point"):
        ember.nanmean(ember.tensor([1, 2]))


def test_cumsum_in_place_and_bad_dim():
    t = ember.tensor([1.0, 2.0, 3.0])
    assert t.cumsum_(0) is t and t.tolist() == [1.0, 3.0, 6.0]
    with pytest.raises(IndexError, match="Dimension out of range"):
        ember.cumsum(t, 1)
    with pytest.raises(TypeError):
        ember.cumsum(t)  # dim is required, as in PyTorch


# ---- where, nonzero, counting ----------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m, t: m.where(t > 2, 1.0, 0.0), lambda m, t: m.where(t > 2, 1, 0),
    lambda m, t: m.where(t > 2, t, 2.5), lambda m, t: m.where(t > 2, t.float(), t),
    lambda m, t: m.where(t > 2), lambda m, t: m.nonzero(t), lambda m, t: t.nonzero(as_tuple=True),
    lambda m, t: m.argwhere(t), lambda m, t: m.nonzero(m.tensor(1.0)),
    lambda m, t: m.nonzero(m.tensor(0.0), as_tuple=True), lambda m, t: m.count_nonzero(t),
    lambda m, t: t.count_nonzero(dim=(0, 1)), lambda m, t: m.count_nonzero(t, axis=1),
])
def test_where_nonzero_and_count_nonzero_match_pytorch(fn):
    check_exactly_as_pytorch(fn, np.array([[0, 3, 5], [1, 0, 4]]))


def test_where_condition_must_be_boolean():
    x = ember.ones(3)
    with pytest.raises(RuntimeError, match="boolean tensor.*float32"):
        ember.where(x, x, 0.0)
    with pytest.warns(UserWarning, match="uint8"):
        out = ember.where(ember.tensor([1, 0, 1], dtype=ember.uint8), 1.0, 0.0)
    assert out.tolist() == [1.0, 0.0, 1.0]
    with pytest.raises(TypeError, match="both"):
        ember.where(x > 0, x)


@pytest.mark.parametrize("kwargs", [
    {}, {"minlength": 7}, {"weights": [0.5, 1.0, 2.0, 0.25, 4.0]},
    {"weights": np.array([0.5, 1.0, 2.0, 0.25, 4.0])}, {"weights": [1, 2, 3, 4, 5]},
])
def test_bincount_matches_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    data = [1, 3, 1, 0, 5]
    w = kwargs.get("weights")
    ours = ember.bincount(ember.tensor(data), None if w is None else ember.tensor(w),
                          kwargs.get("minlength", 0))
    theirs = torch.bincount(torch.tensor(data), None if w is None else torch.tensor(w),
                            kwargs.get("minlength", 0))
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert ours.tolist() == theirs.tolist()
    assert ember.tensor(data).bincount().tolist() == np.bincount(data).tolist()


def test_bincount_weights_gradient():
    w = ember.tensor([0.5, 1.0, 2.0, 0.25], dtype=ember.float64, requires_grad=True)
    assert gradcheck(lambda t: ember.bincount(ember.tensor([2, 0, 2, 1]), t, minlength=5), (w,))


@pytest.mark.parametrize("fn, message", [
    (lambda: ember.bincount(ember.tensor([0, -1])), "non-negative"),
    (lambda: ember.bincount(ember.tensor([[0, 1]])), "1-d"),
    (lambda: ember.bincount(ember.tensor([0.0, 1.0])), "integral"),
    (lambda: ember.bincount(ember.tensor([0, 1]), ember.ones(3)), "same length"),
    (lambda: ember.bincount(ember.tensor([0, 1]), minlength=-1), "minlength"),
])
def test_bincount_bad_input(fn, message):
    with pytest.raises(RuntimeError, match=message):
        fn()


@pytest.mark.parametrize("kwargs", [
    {}, {"sorted": False}, {"return_inverse": True}, {"return_counts": True},
    {"return_inverse": True, "return_counts": True}, {"dim": 0, "return_inverse": True},
    {"dim": 1, "return_counts": True, "return_inverse": True},
])
def test_unique_matches_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    data = [[3, 1, 3], [1, 2, 1], [3, 1, 3]]
    ours = ember.unique(ember.tensor(data), **kwargs)
    theirs = torch.unique(torch.tensor(data), **kwargs)
    ours, theirs = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.dtype == ember.int64 and o.tolist() == t.tolist()
    assert ember.tensor(data).unique().tolist() == [1, 2, 3]


# ---- numpy-style names -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "argmax", "argmin", "std",
                                  "var", "prod", "logsumexp", "all", "any", "count_nonzero",
                                  "cumsum", "cumprod", "median", "max", "min"])
def test_axis_and_keepdims_aliases_agree_with_dim_and_keepdim(name):
    t = ember.tensor(X)
    keep = {} if name in ("count_nonzero", "cumsum", "cumprod") else {"keepdims": True}
    keep_as = {"keepdim": True} if keep else {}
    for fn in (getattr(ember, name), getattr(ember.Tensor, name)):
        ours = fn(t, axis=1, **keep)
        ref = fn(t, dim=1, **keep_as)
        ours, ref = (ours[0], ref[0]) if isinstance(ref, tuple) else (ours, ref)
        assert_close(ours, ref.numpy(), rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("fn", [
    lambda m, t: m.cat([t, t], axis=1), lambda m, t: m.concat([t, t], axis=-1),
    lambda m, t: m.concatenate([t, t], axis=0), lambda m, t: m.stack([t, t], axis=2),
    lambda m, t: t[None].squeeze(axis=0), lambda m, t: m.unsqueeze(t, axis=1),
    lambda m, t: t.chunk(2, axis=1)[1], lambda m, t: m.softmax(t, axis=1),
    lambda m, t: t.log_softmax(axis=0), lambda m, t: t.sort(axis=0).values,
    lambda m, t: t.gather(axis=1, index=m.tensor([[0], [1]])),
])
def test_axis_is_accepted_where_pytorch_accepts_it(fn):
    torch = pytest.importorskip("torch")
    data = X[0, :2]
    assert_close(fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data)).numpy())


def test_dim_and_axis_together_is_a_type_error():
    with pytest.raises(TypeError, match="both 'dim' and its alias 'axis'"):
        ember.sum(ember.ones(2), dim=0, axis=0)
    with pytest.raises(TypeError, match="keepdims"):
        ember.ones(2).max(0, keepdim=True, keepdims=True)


def test_where_uint8_warning_is_not_an_error_for_pytorch_either():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.where(torch.tensor([1, 0], dtype=torch.uint8), 1.0, 0.0)
    assert any("uint8" in str(w.message) for w in caught)


# ---- searching and runs ----------------------------------------------------------------------
@pytest.mark.parametrize("fn", [
    lambda m, s: m.searchsorted(s, m.tensor([[3, 6, 9], [3, 6, 11]])),
    lambda m, s: m.searchsorted(s, m.tensor([[3, 6, 9], [0, 6, 10]]), right=True),
    lambda m, s: m.searchsorted(s[0], m.tensor([[3, 6], [9, 0]]), side="right"),
    lambda m, s: m.searchsorted(s[1], 4),
    lambda m, s: m.searchsorted(s[0], m.tensor([5, 1]), out_int32=True),
    lambda m, s: m.searchsorted(m.tensor([9, 1, 5]), m.tensor([5, 6]), sorter=m.tensor([1, 2, 0])),
    lambda m, s: m.bucketize(m.tensor([[0, 3, 4], [9, 10, 12]]), s[1]),
    lambda m, s: m.bucketize(m.tensor([3, 4, 9]), s[0], right=True, out_int32=True),
])
def test_searchsorted_and_bucketize_match_pytorch(fn):
    check_exactly_as_pytorch(fn, np.array([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]]))


@pytest.mark.parametrize("kwargs", [
    {}, {"return_inverse": True, "return_counts": True}, {"dim": 0, "return_counts": True},
    {"dim": 1, "return_inverse": True},
])
def test_unique_consecutive_matches_pytorch(kwargs):
    data = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 2], [1, 1, 2]])
    check_exactly_as_pytorch(lambda m, t: m.unique_consecutive(t, **kwargs), data)
    check_exactly_as_pytorch(lambda m, t: t.unique_consecutive(**kwargs), data)


@pytest.mark.parametrize("fn, message", [
    (lambda: ember.searchsorted(ember.ones(2, 3), ember.ones(3, 1)), r"\[2, 3\].*\[3, 1\]"),
    (lambda: ember.searchsorted(ember.ones(3), ember.ones(2), side="middle"), "side"),
    (lambda: ember.searchsorted(ember.ones(3), ember.ones(2), right=True, side="left"),
     "opposites"),
    (lambda: ember.bucketize(ember.ones(2), ember.ones(2, 2)), "1 dimension"),
])
def test_searchsorted_bad_input(fn, message):
    with pytest.raises(RuntimeError, match=message):
        fn()
