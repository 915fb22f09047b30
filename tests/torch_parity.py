"""Helpers for comparing an ember module with the same PyTorch module: copy a state_dict across,
run both on the same inputs, and compare outputs and the gradients of inputs and parameters."""
import numpy as np

import ember
from ember.testing import assert_close


def load_torch_state(ember_module, torch_module):
    """Loads torch_module's state_dict into ember_module (strict: every key must match)."""
    state = {k: ember.tensor(v.detach().numpy().copy()) for k, v in
             torch_module.state_dict().items()}
    ember_module.load_state_dict(state)


def call_plainly(module, leaves, consts):
    return module(*leaves, **consts)


def run_both(torch, ours, theirs, arrays, consts=(), call=call_plainly, pick=None, tol=1e-10):
    """Calls ``call(module, leaves, consts)`` for both modules: ``arrays`` become leaves that
    require grad, ``consts`` (a dict of NumPy arrays, e.g. masks) tensors that do not, anything
    else in consts passes through. Backpropagates one random weighting of the output (its
    ``pick`` element when the module returns a tuple) and compares the outputs and the
    gradients of every leaf and parameter. Returns both raw outputs."""
    consts = dict(consts)
    leaves_e = [ember.tensor(a, requires_grad=True) for a in arrays]
    leaves_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    consts_e = {k: ember.tensor(v) if isinstance(v, np.ndarray) else v for k, v in consts.items()}
    consts_t = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in consts.items()}
    raw_e, raw_t = call(ours, leaves_e, consts_e), call(theirs, leaves_t, consts_t)
    out_e = raw_e if pick is None else raw_e[pick]
    out_t = raw_t if pick is None else raw_t[pick]
    assert_close(out_e, out_t.detach().numpy(), rtol=tol, atol=tol, msg="output")
    g = np.random.default_rng(0).standard_normal(tuple(out_e.shape))
    g = g.astype(out_e.detach().numpy().dtype)
    out_e.backward(ember.tensor(g))
    out_t.backward(torch.tensor(g))
    for i, (a, b) in enumerate(zip(leaves_e, leaves_t)):
        assert_close(a.grad, b.grad.numpy(), rtol=tol, atol=tol, msg=f"input {i} gradient")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        want = theirs_params[name].grad
        assert (p.grad is None) == (want is None), name
        if want is not None:
            assert_close(p.grad, want.numpy(), rtol=tol, atol=tol, msg=name)
    return raw_e, raw_t
