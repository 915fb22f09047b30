"""Lazy modules (LazyLinear, LazyConv1d/2d, LazyConvTranspose1d/2d, LazyBatchNorm1d/2d):
parameters materialised from the first input, the module then its eager class; optimizers built
before the first forward train them; state_dict before and after; loading materialises;
PyTorch parity on the same weights; errors."""
import copy

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.testing import assert_close, gradcheck

rng = np.random.default_rng(3)

# (lazy constructor, eager constructor given in_channels, input shape)
CASES = [
    ("LazyLinear", lambda m: m.LazyLinear(5), lambda m, c: m.Linear(c, 5), (4, 7)),
    ("LazyLinear_3d_no_bias", lambda m: m.LazyLinear(3, bias=False),
     lambda m, c: m.Linear(c, 3, bias=False), (2, 4, 6)),
    ("LazyConv1d", lambda m: m.LazyConv1d(4, 3, padding=1, groups=2),
     lambda m, c: m.Conv1d(c, 4, 3, padding=1, groups=2), (2, 6, 9)),
    ("LazyConv2d", lambda m: m.LazyConv2d(6, (3, 2), stride=2),
     lambda m, c: m.Conv2d(c, 6, (3, 2), stride=2), (2, 3, 8, 7)),
    ("LazyConv2d_unbatched", lambda m: m.LazyConv2d(2, 3, bias=False),
     lambda m, c: m.Conv2d(c, 2, 3, bias=False), (3, 5, 5)),
    ("LazyConvTranspose1d", lambda m: m.LazyConvTranspose1d(4, 3, stride=2, groups=2),
     lambda m, c: m.ConvTranspose1d(c, 4, 3, stride=2, groups=2), (2, 4, 5)),
    ("LazyConvTranspose2d", lambda m: m.LazyConvTranspose2d(3, 4, 2, 1),
     lambda m, c: m.ConvTranspose2d(c, 3, 4, 2, 1), (2, 5, 3, 3)),
    ("LazyBatchNorm1d", lambda m: m.LazyBatchNorm1d(), lambda m, c: m.BatchNorm1d(c), (6, 4)),
    ("LazyBatchNorm2d", lambda m: m.LazyBatchNorm2d(momentum=0.3),
     lambda m, c: m.BatchNorm2d(c, momentum=0.3), (3, 4, 2, 5)),
]
IDS = [c[0] for c in CASES]


def channels_of(name, shape):
    if name.startswith("LazyLinear"):
        return shape[-1]
    return shape[0] if "unbatched" in name else shape[1]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_first_forward_materializes_and_becomes_the_eager_class(case):
    name, make_lazy, make_eager, shape = case
    ember.manual_seed(1)
    lazy = make_lazy(nn)
    assert lazy.has_uninitialized_params()
    x = ember.tensor(rng.standard_normal(shape).astype(np.float32))
    out = lazy(x)
    ember.manual_seed(1)
    eager = make_eager(nn, channels_of(name, shape))
    assert type(lazy) is type(eager)
    assert repr(lazy) == repr(eager)
    assert not lazy._forward_pre_hooks
    assert_close(out, eager(x), rtol=1e-6, atol=1e-6)
    # Same seed, same values (initial, or after one update of running statistics):
    # construction drew no random numbers.
    for key, value in eager.state_dict().items():
        got = lazy.state_dict()[key]
        assert type(got) is ember.Tensor and tuple(got.shape) == tuple(value.shape), key
        np.testing.assert_array_equal(got.numpy(), value.numpy(), err_msg=key)
    for p in lazy.parameters():
        assert type(p) is nn.Parameter


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_torch_lazy_module(case):
    """Same state_dict keys and shapes as PyTorch's lazy module before and after its first
    forward; on PyTorch's weights the same output and gradients."""
    torch = pytest.importorskip("torch")
    name, make_lazy, _, shape = case
    tm, em = make_lazy(torch.nn), make_lazy(nn)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    x = rng.standard_normal(shape)
    tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
    tm.double()
    em.double()
    tm(tx)
    em(ex)
    assert repr(em) == repr(tm) and type(em).__name__ == type(tm).__name__
    t_state = {k: v.detach().numpy() for k, v in tm.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in em.state_dict().items()} == \
        {k: v.shape for k, v in t_state.items()}
    assert all(v.dtype == ember.float64 for k, v in em.state_dict().items()
               if "num_batches" not in k)
    # Both again from PyTorch's initial state: one training step's output and gradients.
    em.load_state_dict(t_state)
    ty, ey = tm(tx), em(ex)
    assert_close(ey, ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    ey.backward(ember.tensor(g))
    assert_close(ex.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    for (tn, tp), (en, ep) in zip(tm.named_parameters(), em.named_parameters()):
        assert tn == en
        assert_close(ep.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-10, msg=en)


def test_gradcheck_through_a_materialized_lazy_linear():
    layer = nn.LazyLinear(3, dtype=ember.float64)
    x = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    layer(x)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, layer.weight, layer.bias))


def test_optimizer_built_before_the_first_forward_trains_the_parameters():
    ember.manual_seed(0)
    model = nn.Sequential(nn.LazyConv2d(4, 3, padding=1), nn.LazyBatchNorm2d(), nn.ReLU(),
                          nn.Flatten(), nn.LazyLinear(2))
    opt = ember.optim.Adam(model.parameters(), lr=0.01)
    held = [p for group in opt.param_groups for p in group["params"]]
    x = ember.tensor(rng.standard_normal((8, 3, 5, 5)).astype(np.float32))
    y = ember.tensor(rng.integers(0, 2, 8))
    losses = []
    for _ in range(15):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert [id(p) for p in model.parameters()] == [id(p) for p in held]
    assert all(type(p) is nn.Parameter for p in held)
    assert losses[-1] < 0.5 * losses[0]
    assert tuple(model[4].weight.shape) == (2, 100) and len(opt.state) == len(held)


def test_state_dict_before_the_first_forward_and_loading_materializes():
    lazy = nn.LazyLinear(3)
    state = lazy.state_dict()
    assert list(state) == ["weight", "bias"]
    assert all(isinstance(v, nn.UninitializedParameter) for v in state.values())
    eager = nn.Linear(4, 3)
    result = lazy.load_state_dict(eager.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert not lazy.has_uninitialized_params()
    np.testing.assert_array_equal(lazy.weight.detach().numpy(), eager.weight.detach().numpy())
    x = ember.randn(2, 4)
    assert_close(lazy(x), eager(x))
    assert type(lazy) is nn.Linear and lazy.in_features == 4
    loaded = nn.LazyLinear(3)
    loaded.load_state_dict(eager.state_dict())
    with pytest.raises(ember.ShapeError, match=r"LazyLinear: the in_features inferred from "
                                               r"input \(2, 5\): 5 is not equal to in_features "
                                               r"from self.weight: 4"):
        loaded(ember.randn(2, 5))
    bn = nn.LazyBatchNorm1d()
    bn.load_state_dict(nn.BatchNorm1d(5).state_dict())
    assert tuple(bn.running_mean.shape) == (5,) and type(bn.running_mean) is ember.Tensor


def test_dtype_set_before_the_first_forward_is_kept():
    conv = nn.LazyConv1d(2, 3).double()
    assert conv.weight.dtype == ember.float64
    out = conv(ember.tensor(rng.standard_normal((1, 3, 5))))
    assert out.dtype == ember.float64 and conv.weight.dtype == ember.float64
    assert nn.LazyBatchNorm2d(dtype=ember.float64).running_mean.dtype == ember.float64


def test_deepcopy_before_the_first_forward_gives_an_independent_lazy_module():
    lazy = nn.LazyLinear(2)
    twin = copy.deepcopy(lazy)
    twin(ember.randn(1, 6))
    assert tuple(twin.weight.shape) == (2, 6)
    assert lazy.has_uninitialized_params() and type(lazy) is nn.LazyLinear
    lazy(ember.randn(1, 3))
    assert tuple(lazy.weight.shape) == (2, 3)


def test_uninitialized_tensors_give_clear_errors():
    p = nn.UninitializedParameter()
    with pytest.raises(ValueError, match="Can't access the shape of an uninitialized parameter"):
        p.shape
    with pytest.raises(ValueError, match="uninitialized parameter"):
        F.linear(ember.randn(2, 3), p)
    assert repr(p) == "<UninitializedParameter>" and p.dtype == ember.float32
    p.materialize((2, 3))
    assert type(p) is nn.Parameter and tuple(p.shape) == (2, 3)
    b = nn.UninitializedBuffer(dtype=ember.float64)
    b.materialize(4)
    assert type(b) is ember.Tensor and b.dtype == ember.float64 and tuple(b.shape) == (4,)
    with pytest.raises(NotImplementedError, match="CPU only"):
        nn.UninitializedParameter(device="cuda")


def test_bad_first_inputs():
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input "
                                           r"to LazyConv2d, but got input of size: \(2, 3\)"):
        nn.LazyConv2d(4, 3)(ember.randn(2, 3))
    with pytest.raises(ValueError, match=r"LazyConv2d: in_channels must be divisible by groups. "
                                         r"Received: in_channels=3"):
        nn.LazyConv2d(4, 3, groups=2)(ember.randn(1, 3, 5, 5))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.LazyBatchNorm2d()(ember.randn(2, 3))
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        nn.LazyConv2d(4, 3, groups=0)
    with pytest.raises(ValueError, match="LazyLinear: out_features must be an integer >= 0"):
        nn.LazyLinear(-1)


def test_sequential_fuses_a_lazy_layer_once_it_is_eager():
    model = nn.Sequential(nn.LazyLinear(4), nn.ReLU(), nn.LazyConv1d(2, 3), nn.ReLU())
    x = ember.randn(2, 3, 5)
    first = model(x)
    assert_close(first, F.relu(model[2](F.relu(model[0](x)))))
    model(x)
    kinds = [kind for _, _, kind in model.__dict__["_fusion_plan"][1]]
    assert kinds == ["relu", "relu_epilogue"]
