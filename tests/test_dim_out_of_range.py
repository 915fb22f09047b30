"""Every op taking a dim refuses one outside [-n, n-1] with PyTorch's IndexError, instead of
wrapping it around or leaking NumPy's AxisError (issue 11: cat(dim=2) of 2-D tensors returned a
wrong shape)."""
import re

import numpy as np
import pytest

import ember

SHAPE = (2, 3, 4)


def _long(t, shape=SHAPE):
    return t.zeros(shape, dtype=t.long)


def _one_slice(t, d):
    """A source with one slice along d (any shape when d is out of range: the dim fails first)."""
    shape = list(SHAPE)
    if -len(shape) <= d < len(shape):
        shape[d] = 1
    return t.ones(shape)


# name -> (call(t, x, d) with t the module (ember or torch), rank the dim is checked against)
CASES = {
    "cat": (lambda t, x, d: t.cat([x, x], dim=d), 3),
    "stack": (lambda t, x, d: t.stack([x, x], dim=d), 4),
    "flatten_start": (lambda t, x, d: t.flatten(x, start_dim=d), 3),
    "flatten_end": (lambda t, x, d: t.flatten(x, 0, end_dim=d), 3),
    "unflatten": (lambda t, x, d: t.unflatten(x, d, (1, -1)), 3),
    "permute": (lambda t, x, d: x.permute(0, 1, d), 3),
    "transpose": (lambda t, x, d: t.transpose(x, 0, d), 3),
    "swapaxes": (lambda t, x, d: t.swapaxes(x, d, 0), 3),
    "squeeze": (lambda t, x, d: t.squeeze(x, d), 3),
    "unsqueeze": (lambda t, x, d: t.unsqueeze(x, d), 4),
    "size": (lambda t, x, d: x.size(d), 3),
    "narrow": (lambda t, x, d: t.narrow(x, d, 0, 1), 3),
    "split": (lambda t, x, d: t.split(x, 1, dim=d), 3),
    "chunk": (lambda t, x, d: t.chunk(x, 2, dim=d), 3),
    "flip": (lambda t, x, d: t.flip(x, (0, d)), 3),
    "roll": (lambda t, x, d: t.roll(x, 1, d), 3),
    "rot90": (lambda t, x, d: t.rot90(x, 1, (0, d)), 3),
    "tile_free": (lambda t, x, d: t.repeat_interleave(x, 2, dim=d), 3),
    "diagonal": (lambda t, x, d: t.diagonal(x, 0, 0, d), 3),
    "diag_embed": (lambda t, x, d: t.diag_embed(x, 0, 0, d), 4),
    "sum": (lambda t, x, d: t.sum(x, d), 3),
    "sum_tuple": (lambda t, x, d: t.sum(x, (0, d)), 3),
    "mean": (lambda t, x, d: t.mean(x, d), 3),
    "prod": (lambda t, x, d: t.prod(x, d), 3),
    "nansum": (lambda t, x, d: t.nansum(x, d), 3),
    "nanmean": (lambda t, x, d: t.nanmean(x, d), 3),
    "var": (lambda t, x, d: t.var(x, d), 3),
    "std": (lambda t, x, d: t.std(x, d), 3),
    "amax": (lambda t, x, d: t.amax(x, d), 3),
    "amin": (lambda t, x, d: t.amin(x, d), 3),
    "max": (lambda t, x, d: t.max(x, d), 3),
    "min": (lambda t, x, d: t.min(x, d), 3),
    "argmax": (lambda t, x, d: t.argmax(x, d), 3),
    "argmin": (lambda t, x, d: t.argmin(x, d), 3),
    "logsumexp": (lambda t, x, d: t.logsumexp(x, d), 3),
    "any": (lambda t, x, d: t.any(x > 0, d), 3),
    "all": (lambda t, x, d: t.all(x > 0, d), 3),
    "count_nonzero": (lambda t, x, d: t.count_nonzero(x, d), 3),
    "median": (lambda t, x, d: t.median(x, d), 3),
    "nanmedian": (lambda t, x, d: t.nanmedian(x, d), 3),
    "mode": (lambda t, x, d: t.mode(x, d), 3),
    "norm": (lambda t, x, d: t.norm(x, dim=d), 3),
    "vector_norm": (lambda t, x, d: t.linalg.vector_norm(x, dim=d), 3),
    "matrix_norm": (lambda t, x, d: t.linalg.matrix_norm(x, dim=(0, d)), 3),
    "softmax": (lambda t, x, d: t.softmax(x, d), 3),
    "log_softmax": (lambda t, x, d: t.log_softmax(x, d), 3),
    "F.softmax": (lambda t, x, d: t.nn.functional.softmax(x, d), 3),
    "F.log_softmax": (lambda t, x, d: t.nn.functional.log_softmax(x, d), 3),
    "nn.Softmax": (lambda t, x, d: t.nn.Softmax(d)(x), 3),
    "nn.LogSoftmax": (lambda t, x, d: t.nn.LogSoftmax(d)(x), 3),
    "nn.Flatten": (lambda t, x, d: t.nn.Flatten(d)(x), 3),
    "cumsum": (lambda t, x, d: t.cumsum(x, d), 3),
    "cumprod": (lambda t, x, d: t.cumprod(x, d), 3),
    "cummax": (lambda t, x, d: t.cummax(x, d), 3),
    "cummin": (lambda t, x, d: t.cummin(x, d), 3),
    "sort": (lambda t, x, d: t.sort(x, d), 3),
    "argsort": (lambda t, x, d: t.argsort(x, d), 3),
    "topk": (lambda t, x, d: t.topk(x, 1, d), 3),
    "kthvalue": (lambda t, x, d: t.kthvalue(x, 1, d), 3),
    "gather": (lambda t, x, d: t.gather(x, d, _long(t)), 3),
    "scatter": (lambda t, x, d: t.scatter(x, d, _long(t), x), 3),
    "scatter_add": (lambda t, x, d: t.scatter_add(x, d, _long(t), x), 3),
    "scatter_reduce": (lambda t, x, d: t.scatter_reduce(x, d, _long(t), x, "sum"), 3),
    "index_select": (lambda t, x, d: t.index_select(x, d, _long(t, (1,))), 3),
    "index_fill": (lambda t, x, d: t.index_fill(x, d, _long(t, (1,)), 1.0), 3),
    "index_add": (lambda t, x, d: t.index_add(x, d, _long(t, (1,)), _one_slice(t, d)), 3),
    "index_copy": (lambda t, x, d: t.index_copy(x, d, _long(t, (1,)), _one_slice(t, d)), 3),
    "unique_consecutive": (lambda t, x, d: t.unique_consecutive(x, dim=d), 3),
    "unique": (lambda t, x, d: t.unique(x, dim=d), 3),
    "cross": (lambda t, x, d: t.cross(x[:, :, :3], x[:, :, :3], dim=d), 3),
}


def _torch_or_none():
    try:
        import torch
    except ImportError:
        return None
    return torch


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("offset", ["high", "low", "far"])
def test_out_of_range_dim_raises_pytorch_index_error(name, offset):
    call, rank = CASES[name]
    d = {"high": rank, "low": -rank - 1, "far": 100}[offset]
    x = ember.randn(*SHAPE)
    expected = (f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], "
                f"but got {d})")
    with pytest.raises(IndexError, match=re.escape(expected)):
        call(ember, x, d)
    torch = _torch_or_none()
    if torch is not None:  # the same call is refused by PyTorch with the same message
        with pytest.raises(IndexError, match=re.escape(expected)):
            call(torch, torch.from_numpy(x.numpy()), d)


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_range_negative_dim_matches_positive(name):
    """The check must not refuse a valid dim: -1 is the last one, and agrees with rank-1."""
    call, rank = CASES[name]
    x = ember.randn(*SHAPE)
    a, b = call(ember, x, -1), call(ember, x, rank - 1)
    for u, v in zip(a if isinstance(a, (tuple, list)) else [a],
                    b if isinstance(b, (tuple, list)) else [b]):
        u = u.numpy() if hasattr(u, "numpy") else np.asarray(u)
        v = v.numpy() if hasattr(v, "numpy") else np.asarray(v)
        np.testing.assert_array_equal(u, v)


def test_zero_dim_tensor_accepts_only_dims_0_and_minus_1():
    s = ember.tensor(2.0)
    assert float(ember.sum(s, 0)) == 2.0 and float(ember.softmax(s, -1)) == 1.0
    for op in (lambda d: ember.sum(s, d), lambda d: ember.softmax(s, d),
               lambda d: ember.cumsum(s, d), lambda d: ember.argmax(s, d),
               lambda d: ember.flatten(s, 0, d)):
        with pytest.raises(IndexError, match=re.escape(
                "Dimension out of range (expected to be in range of [-1, 0], but got 1)")):
            op(1)
