"""nn.utils.parameters_to_vector / vector_to_parameters against PyTorch's layout."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils import parameters_to_vector, vector_to_parameters
from ember.testing import assert_close


def make():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.Conv1d(2, 2, 2))


def test_round_trip_and_order():
    net = make()
    vec = parameters_to_vector(net.parameters())
    want = np.concatenate([p.detach().numpy().ravel() for p in net.parameters()])
    assert_close(vec, want)
    vector_to_parameters(vec * 2, net.parameters())
    assert_close(parameters_to_vector(net.parameters()), want * 2)
    assert all(p.requires_grad and p.is_leaf for p in net.parameters())


def test_vector_is_differentiable():
    net = make()
    (parameters_to_vector(net.parameters()) ** 2).sum().backward()
    for p in net.parameters():
        assert_close(p.grad, 2 * p.detach().numpy())


def test_bad_vector():
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        vector_to_parameters(np.zeros(3), make().parameters())
    with pytest.raises(ValueError, match="fewer than the parameters hold"):
        vector_to_parameters(ember.zeros(3), make().parameters())


def test_matches_pytorch_layout():
    torch = pytest.importorskip("torch")
    net = make()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Conv1d(2, 2, 2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in net.state_dict().items()})
    assert_close(parameters_to_vector(net.parameters()),
                 torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy())
