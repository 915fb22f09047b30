"""In-place random fills (uniform_, normal_, bernoulli_, random_, exponential_, geometric_,
log_normal_, cauchy_): PyTorch's signatures, reproducible under ember.manual_seed and with a
Generator, distributions checked with tolerances that a wrong distribution fails, bad
arguments and leaves requiring grad rejected as PyTorch does."""
import numpy as np
import pytest

import ember

N = 20000


def _fill(name, *args, dtype=ember.float64, **kwargs):
    return getattr(ember.empty(N, dtype=dtype), name)(*args, **kwargs).numpy()


@pytest.mark.parametrize("call", [
    lambda t, g: t.uniform_(-2, 3, generator=g), lambda t, g: t.normal_(1.0, 0.5, generator=g),
    lambda t, g: t.bernoulli_(0.3, generator=g), lambda t, g: t.random_(10, generator=g),
    lambda t, g: t.exponential_(2.0, generator=g), lambda t, g: t.geometric_(0.4, generator=g),
    lambda t, g: t.log_normal_(0.0, 0.5, generator=g), lambda t, g: t.cauchy_(generator=g),
], ids=["uniform_", "normal_", "bernoulli_", "random_", "exponential_", "geometric_",
        "log_normal_", "cauchy_"])
def test_fills_are_reproducible_with_seed_and_generator(call):
    def draw(g=None):
        return call(ember.empty(50, dtype=ember.float64), g).tolist()

    ember.manual_seed(3)
    first = draw()
    ember.manual_seed(3)
    assert draw() == first
    assert draw() != first  # the stream moves on
    assert draw(ember.Generator().manual_seed(5)) == draw(ember.Generator().manual_seed(5))


def test_uniform_normal_exponential_moments():
    ember.manual_seed(0)
    u = _fill("uniform_", -2.0, 3.0)
    assert u.min() >= -2.0 and u.max() < 3.0
    assert abs(u.mean() - 0.5) < 0.05 and abs(u.var() - 25 / 12) < 0.1
    assert _fill("uniform_", **{"from": 1.0, "to": 2.0}).min() >= 1.0
    n = _fill("normal_", mean=1.0, std=0.5)
    assert abs(n.mean() - 1.0) < 0.02 and abs(n.std() - 0.5) < 0.02
    e = _fill("exponential_", 4.0)
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.01
    ln = _fill("log_normal_", 0.0, 0.5)
    assert abs(np.log(ln).mean()) < 0.02 and abs(np.log(ln).std() - 0.5) < 0.02
    c = _fill("cauchy_", 2.0, 1.0)
    assert abs(np.median(c) - 2.0) < 0.05 and abs(np.mean(np.abs(c - 2.0) < 1.0) - 0.5) < 0.02


def test_bernoulli_and_geometric():
    ember.manual_seed(1)
    b = _fill("bernoulli_", 0.3, dtype=ember.float32)
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.015
    p = ember.tensor([0.0, 1.0, 0.5]).expand(N // 2, 3).contiguous()
    per_column = ember.empty(N // 2, 3).bernoulli_(p).numpy().mean(0)
    assert per_column[0] == 0.0 and per_column[1] == 1.0 and abs(per_column[2] - 0.5) < 0.03
    g = _fill("geometric_", 0.25)
    assert g.min() >= 1 and abs(g.mean() - 4.0) < 0.15


@pytest.mark.parametrize("dtype, top", [(ember.float32, 2 ** 24), (ember.float64, 2 ** 53),
                                        (ember.int64, 2 ** 63 - 1), (ember.int32, 2 ** 31 - 1),
                                        (ember.uint8, 255), (ember.int8, 127),
                                        (ember.bool, 1)])
def test_random_ranges_follow_the_dtype_like_pytorch(dtype, top):
    ember.manual_seed(2)
    t = ember.empty(N, dtype=dtype).random_()
    assert t.dtype == dtype
    vals = t.numpy().astype(np.float64)
    assert vals.min() >= 0 and vals.max() <= top and vals.max() > top * 0.9
    small = ember.empty(N, dtype=dtype).random_(2).numpy()
    assert set(np.unique(small).tolist()) == {0, 1}
    if dtype != ember.bool:
        span = ember.empty(N, dtype=dtype).random_(3, 7).numpy()
        assert set(np.unique(span).tolist()) == {3, 4, 5, 6}
        assert abs(np.mean(span == 6) - 0.25) < 0.02


@pytest.mark.parametrize("call, message", [
    (lambda t: t.uniform_(2, 1), "from=2 > to=1"),
    (lambda t: t.normal_(0, -1), "std >= 0.0"),
    (lambda t: t.bernoulli_(1.5), r"p to be in \[0, 1\]"),
    (lambda t: t.random_(5, 5), "from=5 >= to=5"),
    (lambda t: t.exponential_(0), "lambda > 0.0"),
    (lambda t: t.geometric_(1.5), r"p to be in \(0, 1\)"),
    (lambda t: t.bernoulli_(ember.ones(2) / 2), "cannot be broadcast"),
])
def test_bad_arguments_raise_like_pytorch(call, message):
    with pytest.raises(RuntimeError, match=message):
        call(ember.empty(3))


def test_continuous_fills_of_integer_tensors_raise():
    for name in ("uniform_", "normal_", "exponential_", "log_normal_", "cauchy_"):
        with pytest.raises(NotImplementedError, match=f"{name}.*int64"):
            getattr(ember.zeros(3, dtype=ember.int64), name)()


def test_fill_of_a_tensor_in_a_graph_leaves_the_graph_and_keeps_saved_values():
    x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    z = y * y          # saves y's values for backward
    y.uniform_()
    assert not y.requires_grad and y.grad_fn is None
    z.sum().backward()
    assert x.grad.tolist() == [8.0, 16.0, 24.0]
