"""Checks for the test files of reductions, sorting and indexing that list ops as CASES:
name -> (fn(module, *tensors), NumPy reference, inputs as (array, differentiable)). fn runs
unchanged on ember and on torch, which is the point: the PyTorch face is the same code."""
import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck


def ember_inputs(spec, dtype=ember.float64):
    return [ember.tensor(np.array(a), dtype=dtype, requires_grad=d) for a, d in spec]


def check_forward(case, name, tol):
    fn, ref, spec = case
    assert_close(fn(ember, *ember_inputs(spec)), ref(*[np.array(a) for a, _ in spec]),
                 rtol=tol, atol=tol, msg=name)


def check_gradcheck(case):
    fn, _, spec = case
    assert gradcheck(lambda *t: fn(ember, *t), ember_inputs(spec))


def check_float32(case, name, tol=None):
    """float32 inputs give float32 outputs and gradients, close to float64's."""
    fn, _, spec = case
    in64, in32 = ember_inputs(spec), ember_inputs(spec, ember.float32)
    out64, out32 = fn(ember, *in64), fn(ember, *in32)
    assert out32.dtype == ember.float32
    assert_close(out32, out64.detach().numpy().astype(np.float32), rtol=tol, atol=tol, msg=name)
    g = np.random.default_rng(1).standard_normal(tuple(out64.shape))
    out64.backward(ember.tensor(g))
    out32.backward(ember.tensor(g, dtype=ember.float32))
    for i, (a, b) in enumerate(zip(in32, in64)):
        if b.grad is not None:
            assert a.grad.dtype == ember.float32
            assert_close(a.grad, b.grad.numpy().astype(np.float32), rtol=tol, atol=tol,
                         msg=f"{name} grad {i}")


def check_pytorch(case, name, tol, grad_tol, with_gradients=True):
    """Forward within tol of PyTorch's on the same float64 data; then each input's gradient
    for one random output gradient (None where PyTorch leaves .grad unset)."""
    torch = pytest.importorskip("torch")
    fn, _, spec = case
    ours = ember_inputs(spec)
    theirs = [torch.tensor(np.array(a), dtype=torch.float64, requires_grad=d) for a, d in spec]
    out, ref = fn(ember, *ours), fn(torch, *theirs)
    assert tuple(out.shape) == tuple(ref.shape)
    assert_close(out, ref.detach().numpy(), rtol=tol, atol=tol, msg=f"{name} forward")
    if not with_gradients:
        return
    g = np.random.default_rng(0).standard_normal(tuple(ref.shape))
    out.backward(ember.tensor(g))
    ref.backward(torch.tensor(g))
    for i, (e, t) in enumerate(zip(ours, theirs)):
        if t.grad is None:
            assert e.grad is None, f"{name} grad {i}: PyTorch has none"
            continue
        assert_close(e.grad, t.grad.numpy(), rtol=grad_tol, atol=grad_tol, msg=f"{name} grad {i}")


def check_exactly_as_pytorch(fn, data):
    """fn(module, tensor) on ember and on torch gives the same dtype, shape and values (or the
    same tuple of them)."""
    torch = pytest.importorskip("torch")
    ours, theirs = fn(ember, ember.tensor(data)), fn(torch, torch.tensor(data))
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
    for o, t in zip(ours, theirs) if isinstance(theirs, tuple) else [(ours, theirs)]:
        assert str(o.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        assert o.shape == tuple(t.shape) and o.tolist() == t.tolist()
