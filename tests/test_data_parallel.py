"""nn.DataParallel on the CPU: a pass-through wrapper whose state_dict keys carry PyTorch's
``module.`` prefix, so checkpoints interchange with PyTorch's DataParallel both ways."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.parallel import data_parallel
from ember.testing import assert_close


def make_net():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))


def test_forward_and_training_go_through_the_wrapped_module():
    net = make_net()
    model = nn.DataParallel(net, device_ids=None, output_device=None, dim=0)
    assert model.module is net and model.device_ids == [] and model.dim == 0
    x = ember.randn(5, 4)
    assert_close(model(x), net(x))
    model(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert [id(p) for p in model.parameters()] == [id(p) for p in net.parameters()]
    assert_close(data_parallel(net, x), net(x))
    assert_close(data_parallel(net, (x,)), net(x))


def test_state_dict_keys_carry_the_module_prefix():
    model = nn.DataParallel(make_net())
    assert list(model.state_dict()) == ["module.0.weight", "module.0.bias", "module.2.weight",
                                        "module.2.bias"]
    plain = make_net()
    for p in plain.parameters():
        p.data = p.data * 0
    plain.load_state_dict({k[len("module."):]: v for k, v in model.state_dict().items()})
    x = ember.randn(2, 4)
    assert_close(plain(x), model(x))
    assert "DataParallel(\n  (module): Sequential(" in repr(model)


def test_rejects_a_non_module():
    with pytest.raises(TypeError, match="DataParallel: module must be an ember.nn.Module"):
        nn.DataParallel(lambda x: x)


def test_checkpoints_interchange_with_pytorch():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.DataParallel(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(),
                                                       torch.nn.Linear(3, 2)))
    ours = nn.DataParallel(make_net())
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: ember.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    assert_close(ours(ember.tensor(x)), theirs(torch.tensor(x)).detach().numpy())
    theirs.load_state_dict({k: torch.tensor(v.numpy() * 2) for k, v in ours.state_dict().items()})
    assert_close(theirs.module[0].weight.detach().numpy(), ours.module[0].weight * 2)
