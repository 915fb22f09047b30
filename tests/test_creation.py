"""Tensor creation: from data, filled, ranges, random streams and generators."""
import numpy as np
import pytest

import ember
from ember.testing import assert_close


@pytest.mark.parametrize("data, expected", [
    ([1.0, 2.0], "float32"), ([1, 2], "int64"), ([True, False], "bool"), ([1, 2.5], "float32"),
    (np.array([1.0, 2.0]), "float64"), (np.array([1, 2], np.int32), "int32"),
    (np.float64(1.5), "float64"), (3.0, "float32"), (7, "int64"),
])
def test_tensor_infers_dtype_like_pytorch(data, expected):
    assert ember.tensor(data).dtype == getattr(ember, expected)
    torch = pytest.importorskip("torch")
    assert torch.tensor(data).dtype == getattr(torch, expected)


def test_tensor_copies_and_honours_dtype():
    a = np.ones(3)
    t = ember.tensor(a, dtype=ember.float32)
    assert t.dtype == ember.float32
    ember.tensor(a).zero_()
    assert a.tolist() == [1.0, 1.0, 1.0]
    assert ember.tensor([1, 2], dtype=ember.float64).tolist() == [1.0, 2.0]
    assert ember.tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert ember.tensor([ember.tensor(1.0), ember.tensor(2.0)]).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError):
        ember.tensor(["a"])
    with pytest.raises(ValueError):
        ember.tensor([[1, 2], [3]])


def test_from_numpy_shares_memory():
    a = np.arange(4.0)
    t = ember.from_numpy(a)
    assert t.dtype == ember.float64
    t[0] = 9.0
    a[3] = -1.0
    assert a.tolist() == [9.0, 1.0, 2.0, -1.0] and t.tolist() == a.tolist()
    with pytest.raises(TypeError):
        ember.from_numpy([1, 2])


def test_filled_tensors():
    for fn, value in ((ember.zeros, 0.0), (ember.ones, 1.0)):
        for shape_args in ((2, 3), ((2, 3),), ([2, 3],)):
            t = fn(*shape_args)
            assert t.shape == (2, 3) and t.dtype == ember.float32
            assert (t.numpy() == value).all()
    assert ember.ones(2, dtype=ember.int64).tolist() == [1, 1]
    assert ember.empty(2, 3).shape == (2, 3) and ember.empty(0).shape == (0,)
    assert ember.zeros(2, requires_grad=True).requires_grad


@pytest.mark.parametrize("fill, expected", [(3, "int64"), (3.0, "float32"), (True, "bool")])
def test_full_infers_dtype_from_fill_value(fill, expected):
    t = ember.full((2, 2), fill)
    assert t.dtype == getattr(ember, expected) and t.tolist() == [[fill, fill]] * 2
    assert ember.full((2,), 3, dtype=ember.float64).dtype == ember.float64
    torch = pytest.importorskip("torch")
    assert torch.full((2, 2), fill).dtype == getattr(torch, expected)


def test_eye_arange_linspace_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda m: m.eye(3), lambda m: m.eye(2, 4), lambda m: m.arange(5), lambda m: m.arange(2, 9, 3),
        lambda m: m.arange(5, 0, -2), lambda m: m.arange(0, 1, 0.25), lambda m: m.arange(3.0),
        lambda m: m.arange(4, dtype=m.float64), lambda m: m.linspace(0, 1, 5),
        lambda m: m.linspace(-2, 2, 1), lambda m: m.linspace(0, 4, 5, dtype=m.float64),
    ]
    for make in cases:
        ours, theirs = make(ember), make(torch)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        assert_close(ours, theirs.numpy(), rtol=1e-6, atol=1e-7)
    assert ember.arange(5).dtype == ember.int64 and ember.arange(0, 1, 0.5).dtype == ember.float32


def test_like_functions_keep_shape_and_dtype():
    base = ember.zeros(2, 3, dtype=ember.float64)
    for fn in (ember.zeros_like, ember.ones_like, ember.empty_like, ember.rand_like,
               ember.randn_like):
        t = fn(base)
        assert t.shape == (2, 3) and t.dtype == ember.float64, fn.__name__
    assert ember.ones_like(base, dtype=ember.float32).dtype == ember.float32
    assert ember.full_like(ember.zeros(2, dtype=ember.int64), 7).tolist() == [7, 7]
    assert ember.zeros_like(ember.tensor([1, 2])).dtype == ember.int64
    assert ember.zeros_like(base, requires_grad=True).requires_grad
    r = ember.randint_like(base, 5)
    assert r.dtype == ember.float64 and ((r.numpy() >= 0) & (r.numpy() < 5)).all()


def test_random_shapes_dtypes_and_ranges():
    ember.manual_seed(0)
    u = ember.rand(1000)
    assert u.dtype == ember.float32 and 0 <= u.min().item() and u.max().item() < 1
    n = ember.randn(2000, dtype=ember.float64)
    assert n.dtype == ember.float64 and abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    r = ember.randint(3, 7, (500,))
    assert r.dtype == ember.int64 and set(r.tolist()) == {3, 4, 5, 6}
    assert ember.randint(4, (3, 2)).shape == (3, 2)  # randint(high, size)
    p = ember.randperm(10)
    assert p.dtype == ember.int64 and sorted(p.tolist()) == list(range(10))
    assert ember.rand(2, 3, requires_grad=True).requires_grad


def test_manual_seed_reproduces_every_random_function():
    def draw():
        return [ember.rand(3).tolist(), ember.randn(2, 2).tolist(), ember.randint(0, 100, (4,)).tolist(),
                ember.randperm(6).tolist(), ember.empty(3).uniform_(-1, 1).tolist(),
                ember.empty(3).normal_().tolist()]

    ember.manual_seed(1234)
    first = draw()
    ember.manual_seed(1234)
    assert draw() == first
    ember.manual_seed(4321)
    assert draw() != first


def test_generators_are_independent_of_each_other_and_of_the_default():
    ember.manual_seed(5)
    reference = ember.rand(4).tolist()
    ember.manual_seed(5)
    g1, g2 = ember.Generator().manual_seed(11), ember.Generator().manual_seed(11)
    a = ember.rand(4, generator=g1).tolist()
    assert ember.rand(4).tolist() == reference  # the default stream did not move
    assert ember.rand(4, generator=g2).tolist() == a  # same seed, same stream
    assert ember.randn(3, generator=g1).tolist() == ember.randn(3, generator=g2).tolist()
    assert ember.rand(4, generator=g1).tolist() != a
    assert g1.initial_seed() == 11
    state = g1.get_state()
    x = ember.rand(2, generator=g1).tolist()
    g1.set_state(state)
    assert ember.rand(2, generator=g1).tolist() == x
    with pytest.raises(TypeError):
        ember.rand(2, generator=np.random.default_rng(0))


@pytest.mark.parametrize("make", [
    lambda: ember.zeros(-1), lambda: ember.ones(2, -3), lambda: ember.rand(-2),
    lambda: ember.randn(2, -1), lambda: ember.full((-1,), 1.0), lambda: ember.empty(-5),
])
def test_negative_sizes_raise(make):
    with pytest.raises(ValueError, match="negative"):
        make()


@pytest.mark.parametrize("make", [
    lambda: ember.zeros(2.5), lambda: ember.ones((2, 1.5)), lambda: ember.rand("3"),
    lambda: ember.randint(5, 2, (3,)), lambda: ember.randint(0, 5),
    lambda: ember.arange(0, 5, 0), lambda: ember.rand(2, dtype=ember.int64),
])
def test_bad_arguments_raise(make):
    with pytest.raises((TypeError, ValueError, NotImplementedError)):
        make()


def test_normal_takes_pytorchs_overloads():
    # MorvanZhou's 306_optimizer: `torch.normal(torch.zeros(*x.size()))`, std defaults to 1.
    torch = pytest.importorskip("torch")
    ember.manual_seed(0)
    for mean, std in ((ember.zeros(2000, dtype=ember.float64), None), (3.0, ember.ones(2000)),
                      (ember.full((2000,), -2.0), ember.full((2000,), 0.5))):
        out = ember.normal(mean) if std is None else ember.normal(mean, std)
        tmean = torch.tensor(mean.numpy()) if isinstance(mean, ember.Tensor) else mean
        tstd = torch.tensor(std.numpy()) if std is not None else None
        expected = torch.normal(tmean) if std is None else torch.normal(tmean, tstd)
        assert out.shape == tuple(expected.shape) and str(out.dtype)[6:] == str(expected.dtype)[6:]
        m = np.asarray(tmean if std is None or not isinstance(mean, ember.Tensor) else mean.numpy())
        s = 1.0 if std is None else std.numpy()
        z = (out.numpy() - m) / s  # standardised draws: mean 0, std 1
        assert abs(z.mean()) < 0.1 and abs(z.std() - 1) < 0.1
    assert ember.normal(0.0, 2.0, (3, 4)).shape == (3, 4)


@pytest.mark.parametrize("call, error", [
    (lambda: ember.normal(0.0, 1.0), TypeError),   # two numbers need a size
    (lambda: ember.normal(0.0), TypeError),
    (lambda: ember.normal(ember.zeros(2), 1.0, (2,)), TypeError),  # no size with tensors
    (lambda: ember.normal(ember.zeros(2), -1.0), RuntimeError),
    (lambda: ember.normal(ember.zeros(2), ember.tensor([1.0, -1.0])), RuntimeError)])
def test_normal_bad_arguments_raise_like_pytorch(call, error):
    with pytest.raises(error, match="normal"):
        call()
