"""ember.testing.gradcheck and assert_close: they pass correct gradients and catch wrong ones."""
import numpy as np
import pytest

import ember
from ember.autograd import Function
from ember.testing import GradcheckError, assert_close, gradcheck


class Cube(Function):
    """x**3 with a backward that can be made wrong on purpose."""

    def forward(self, x, scale=3.0):
        self.x, self.scale = x, scale
        return x ** 3

    def backward(self, g):
        return (g * self.scale * self.x ** 2,)


class Mix(Function):
    """(a * b, a + b): two outputs, two inputs."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return g * self.b, g * self.a


def t64(*shape, requires_grad=True, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(data, dtype=ember.float64, requires_grad=requires_grad)


@pytest.mark.parametrize("shape", [(3,), (2, 3), (10, 10)])  # (10, 10): projection only
def test_correct_gradient_passes(shape):
    assert gradcheck(lambda x: Cube.apply(x), (t64(*shape),)) is True


@pytest.mark.parametrize("shape", [(3,), (10, 10)])
def test_wrong_gradient_raises_naming_input_and_element(shape):
    with pytest.raises(GradcheckError, match=r"input 0.*element \(.*numerical .* vs analytic"):
        gradcheck(lambda x: Cube.apply(x, scale=3.01), (t64(*shape),))
    assert issubclass(GradcheckError, AssertionError)


def test_raise_exception_false_returns_false():
    assert gradcheck(lambda x: Cube.apply(x, scale=2.0), (t64(4),), raise_exception=False) is False


def test_checks_only_inputs_requiring_grad_and_names_the_wrong_one():
    a, b = t64(2, 2, seed=1), t64(2, 2, seed=2)
    assert gradcheck(lambda a, b: Mix.apply(a, b), (a, b))

    class WrongSecond(Mix):
        def backward(self, g):
            return g * self.b, g * self.a * 1.1

    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: WrongSecond.apply(a, b), (a, b))
    b_const = t64(2, 2, requires_grad=False, seed=2)
    assert gradcheck(lambda a, b: WrongSecond.apply(a, b), (a, b_const))


def test_leaves_caller_tensors_alone():
    x = t64(3)
    before = x.detach().numpy().copy()
    gradcheck(lambda x: Cube.apply(x), (x,))
    assert x.grad is None
    np.testing.assert_array_equal(x.detach().numpy(), before)


def test_rejects_float32_and_no_grad_inputs():
    x32 = ember.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="input 0 .*float64"):
        gradcheck(lambda x: Cube.apply(x), (x32,))
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: Cube.apply(x), (t64(3, requires_grad=False),))


def test_assert_close_accepts_tensors_arrays_and_reports():
    assert_close(ember.tensor([1.0, 2.0]), np.array([1.0, 2.0]))
    assert_close(np.float64(1.0), 1.0 + 1e-9, rtol=1e-6, atol=0)
    with pytest.raises(AssertionError, match=r"mine: 1 of 2 elements differ.*index \(1,\)"):
        assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.1]), msg="mine")
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_close(np.ones(2), np.ones(3))
    with pytest.raises(AssertionError):
        assert_close(np.array([np.nan]), np.array([np.nan]))
    assert_close(np.array([np.nan]), np.array([np.nan]), equal_nan=True)
