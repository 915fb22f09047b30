"""PyTorch's type promotion for the binary ops, checked against PyTorch over every pair of
dtypes and every mix of n-d tensors, 0-d tensors and Python numbers: n-d tensors decide the
dtype, 0-d tensors and numbers change it only when they bring a higher category (bool <
integer < floating), and int64 with float32 gives float32 (NumPy would say float64)."""
import itertools
import operator

import numpy as np
import pytest

import ember

DTYPES = ["bool", "uint8", "int16", "int32", "int64", "float16", "float32", "float64"]
KINDS = [("nd", "nd"), ("nd", "0d"), ("0d", "nd"), ("0d", "0d"), ("nd", "number"),
         ("number", "nd")]
NUMBERS = {"bool": True, "int64": 3, "float64": 2.5}  # Python True, 3 and 2.5
OPS = {
    "add": operator.add, "mul": operator.mul, "sub": operator.sub, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "mod": operator.mod, "and": operator.and_,
    "maximum": lambda a, b: _module(a, b).maximum(*_tensors(a, b)),
    "where": lambda a, b: _module(a, b).where(_module(a, b).tensor([True, False, True]), a, b),
    "remainder": lambda a, b: _module(a, b).remainder(a, b),
    "div_floor": lambda a, b: _module(a, b).div(*_tensors(a, b)[:1], b, rounding_mode="floor"),
    "div_trunc": lambda a, b: _module(a, b).div(*_tensors(a, b)[:1], b, rounding_mode="trunc"),
    "atan2": lambda a, b: _module(a, b).atan2(*_tensors(a, b)),
}


def _module(a, b):
    import torch
    return torch if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor) else ember


def _tensors(a, b):
    m = _module(a, b)
    return [x if hasattr(x, "dtype") else m.tensor(x) for x in (a, b)]


def _operand(m, dtype, kind):
    if kind == "number":
        return NUMBERS.get(dtype)
    values = np.array([7, 3, 5]) if kind == "nd" else np.array(3)
    return m.tensor(values.astype(dtype))


@pytest.mark.parametrize("op", OPS)
def test_result_dtypes_and_values_match_pytorch(op):
    torch = pytest.importorskip("torch")
    fn, compared, mismatches = OPS[op], 0, []
    for (d1, d2), (k1, k2) in itertools.product(itertools.product(DTYPES, DTYPES), KINDS):
        ea, eb = _operand(ember, d1, k1), _operand(ember, d2, k2)
        if ea is None or eb is None:
            continue
        try:
            theirs = fn(_operand(torch, d1, k1), _operand(torch, d2, k2))
        except (RuntimeError, TypeError, NotImplementedError):
            continue  # combinations PyTorch refuses are tested where ember refuses them too
        ours = fn(ea, eb)
        compared += 1
        expected = str(theirs.dtype).split(".")[1]
        same = np.allclose(ours.numpy().astype(float), theirs.numpy().astype(float),
                           rtol=1e-3, equal_nan=True)
        if ours.dtype.name != expected or not same:
            mismatches.append(f"{d1} {k1} {op} {d2} {k2}: ember {ours.dtype} {ours.tolist()}, "
                              f"PyTorch {theirs.dtype} {theirs.tolist()}")
    assert compared > 100
    assert not mismatches, "\n".join(mismatches[:20])


def test_bool_subtraction_and_negation_raise_like_pytorch():
    mask = ember.tensor([True, False])
    for call in (lambda: mask - mask, lambda: 1 - mask, lambda: ember.tensor([1, 2]) - True,
                 lambda: -mask):
        with pytest.raises(RuntimeError, match="bool tensor is not supported.*`~`"):
            call()
