"""The three checks every differentiable op gets, for test files that describe their ops as
CASES = {name: (fn(module, *tensors), numpy_reference(*arrays), [(array, requires_grad)...])}:
forward against NumPy, float64 gradcheck, and forward and gradients against PyTorch."""
import numpy as np
import pytest

import ember
from ember.testing import assert_close, gradcheck


def float64_tensors(spec):
    return [ember.tensor(np.array(a, copy=True), dtype=ember.float64, requires_grad=d)
            for a, d in spec]


def check_forward(case, name, tol=1e-12):
    fn, ref, spec = case
    out = fn(ember, *float64_tensors(spec))
    assert out.dtype == ember.float64, f"{name}: dtype {out.dtype}"
    assert_close(out, ref(*[np.array(a, copy=True) for a, _ in spec]), rtol=tol, atol=tol,
                 msg=name)


def check_gradcheck(case):
    fn, _, spec = case
    assert gradcheck(lambda *t: fn(ember, *t), float64_tensors(spec))


def check_pytorch(case, name, forward_only=False, seed=0):
    """Same forward and the same gradients for a random output gradient as PyTorch."""
    torch = pytest.importorskip("torch")
    fn, _, spec = case
    ours = float64_tensors(spec)
    theirs = [torch.tensor(np.array(a, copy=True), dtype=torch.float64, requires_grad=d)
              for a, d in spec]
    out, ref = fn(ember, *ours), fn(torch, *theirs)
    assert tuple(out.shape) == tuple(ref.shape), name
    assert_close(out, ref.detach().numpy(), rtol=1e-12, atol=1e-12, msg=f"{name} forward")
    if forward_only:
        return
    g = np.random.default_rng(seed).standard_normal(tuple(ref.shape))
    out.backward(ember.tensor(g))
    ref.backward(torch.tensor(g))
    for i, ((_, needs), e, t) in enumerate(zip(spec, ours, theirs)):
        if not needs:
            continue
        assert e.grad is not None, f"{name}: input {i} got no gradient"
        assert_close(e.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12, msg=f"{name} grad {i}")


def op_tests(cases, forward_only_in_pytorch=(), forward_tol=1e-12, numpy_refs=None):
    """The three checks as parametrized tests over `cases`, for a test module to bind:
    test_forward_matches_numpy, test_gradcheck, test_matches_pytorch = op_tests(CASES).
    numpy_refs may replace a case's NumPy reference for the forward check."""
    numpy_refs = numpy_refs or {}

    @pytest.mark.parametrize("name", cases)
    def test_forward_matches_numpy(name):
        fn, ref, spec = cases[name]
        check_forward((fn, numpy_refs.get(name, ref), spec), name, forward_tol)

    @pytest.mark.parametrize("name", cases)
    def test_gradcheck(name):
        check_gradcheck(cases[name])

    @pytest.mark.parametrize("name", cases)
    def test_matches_pytorch(name):
        check_pytorch(cases[name], name, forward_only=name in forward_only_in_pytorch)

    return test_forward_matches_numpy, test_gradcheck, test_matches_pytorch
