"""`t.grad = g` and `t.data = d` are checked when assigned, with PyTorch's exception types and
messages (issue 11: a .grad of any shape was accepted and broke the next optimizer step)."""
import re

import numpy as np
import pytest

import ember

GRAD_CASES = [  # (value, exception type, message)
    ("x", TypeError, "assigned grad expected to be a Tensor or None but got grad of type str"),
    (1.0, TypeError, "assigned grad expected to be a Tensor or None but got grad of type float"),
    (np.zeros((2, 3), np.float32), TypeError,
     "assigned grad expected to be a Tensor or None but got grad of type numpy.ndarray"),
    ("shape", RuntimeError, "attempting to assign a gradient of size '[3, 2]' to a tensor of "
                            "size '[2, 3]'"),
    ("scalar", RuntimeError, "attempting to assign a gradient of size '[]' to a tensor of size "
                             "'[2, 3]'"),
    ("float64", RuntimeError, "attempting to assign a gradient with dtype"),
    ("int64", RuntimeError, "attempting to assign a gradient with dtype"),
]


def _value(t, spec):
    made = {"shape": lambda: t.zeros(3, 2), "scalar": lambda: t.tensor(1.0),
            "float64": lambda: t.zeros(2, 3, dtype=t.float64),
            "int64": lambda: t.zeros(2, 3, dtype=t.int64)}
    return made[spec]() if isinstance(spec, str) and spec in made else spec


@pytest.mark.parametrize("spec,error,message", GRAD_CASES)
def test_a_wrong_grad_is_refused_and_the_old_one_kept(spec, error, message):
    p = ember.nn.Parameter(ember.zeros(2, 3))
    p.grad = ember.ones(2, 3)
    with pytest.raises(error, match=re.escape(message)):
        p.grad = _value(ember, spec)
    np.testing.assert_array_equal(p.grad.numpy(), np.ones((2, 3), np.float32))


@pytest.mark.parametrize("spec,error,message", GRAD_CASES)
def test_pytorch_refuses_the_same_grads_with_the_same_exception_type(spec, error, message):
    torch = pytest.importorskip("torch")
    p = torch.zeros(2, 3, requires_grad=True)
    with pytest.raises(error, match=re.escape(message.split(" '[")[0])):
        p.grad = _value(torch, spec)


def test_a_matching_grad_or_none_is_accepted_and_used_by_the_optimizer():
    p = ember.nn.Parameter(ember.tensor([1.0, 2.0]))
    opt = ember.optim.SGD([p], lr=0.5)
    p.grad = ember.tensor([2.0, 4.0])
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])
    p.grad = None
    opt.step()  # no gradient: no update
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])


def test_backward_still_accumulates_into_grad():
    p = ember.nn.Parameter(ember.ones(3))
    (p * 2).sum().backward()
    (p * 3).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), np.full(3, 5.0, np.float32))


@pytest.mark.parametrize("value,name", [("x", "str"), (1.0, "float"),
                                        (np.zeros(3), "numpy.ndarray"), ([1.0, 2.0], "list")])
def test_data_must_be_a_tensor(value, name):
    t = ember.zeros(2)
    with pytest.raises(TypeError, match=f"Variable data has to be a tensor, but got {name}"):
        t.data = value
    np.testing.assert_array_equal(t.numpy(), np.zeros(2, np.float32))


def test_data_may_change_shape_and_dtype_as_in_pytorch():
    t = ember.zeros(2)
    t.data = ember.ones(3, 2, dtype=ember.float64)
    assert tuple(t.shape) == (3, 2) and t.dtype == ember.float64
