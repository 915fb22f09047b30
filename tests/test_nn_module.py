"""ember.nn Module system: registration, naming, state_dict, dtype conversion, repr, layers' init,
Dropout, loss modules; compared with PyTorch wherever it is installed."""
import copy
import math
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.act = nn.ReLU()


class Net(nn.Module):
    """A custom nested module; _torch_net builds the same structure with torch.nn."""

    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
        self.register_buffer("scale", ember.ones(2))

    def forward(self, x):
        return self.head(self.block.act(self.block.fc(x))) * self.scale


def _torch_net(torch):
    tnn = torch.nn

    class Block(tnn.Module):  # noqa: F811 (same names as ours, for repr)
        def __init__(self):
            super().__init__()
            self.fc = tnn.Linear(4, 3)
            self.act = tnn.ReLU()

    class Net(tnn.Module):  # noqa: F811
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = tnn.Sequential(tnn.Linear(3, 5), tnn.Tanh(), tnn.Linear(5, 2))
            self.register_buffer("scale", torch.ones(2))

        def forward(self, x):
            return self.head(self.block.act(self.block.fc(x))) * self.scale

    return Net()


def _mlp(nn_):
    return nn_.Sequential(nn_.Linear(2, 3), nn_.ReLU(), nn_.Linear(3, 1))


def _torch_state_as_numpy(model):
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


# ---- registration ----------------------------------------------------------------------------
def test_setattr_registers_parameters_modules_and_buffers():
    m = nn.Module()
    m.w = nn.Parameter(ember.zeros(2, 3))
    m.sub = nn.Linear(3, 1)
    m.register_buffer("running", ember.zeros(3))
    m.register_buffer("tmp", ember.zeros(1), persistent=False)
    m.plain = 5
    assert list(m._parameters) == ["w"] and list(m._modules) == ["sub"]
    assert list(m._buffers) == ["running", "tmp"] and m.plain == 5
    assert m.w is m._parameters["w"] and m.sub is m._modules["sub"]
    assert list(m.state_dict()) == ["w", "running", "sub.weight", "sub.bias"]
    assert list(m.named_parameters()) == [("w", m.w), ("sub.weight", m.sub.weight),
                                          ("sub.bias", m.sub.bias)]
    # a buffer name rebound to a module moves between tables; a parameter name cannot be
    m.running = nn.Identity()
    assert "running" not in m._buffers and isinstance(m.running, nn.Identity)
    with pytest.raises(TypeError, match="cannot assign .*Identity' as parameter 'w'"):
        m.w = nn.Identity()
    m.w = None
    assert "w" in m._parameters and m.w is None and list(m.parameters())[0] is m.sub.weight
    del m.sub
    assert "sub" not in m._modules
    with pytest.raises(AttributeError, match="has no attribute 'sub'"):
        m.sub


def test_registration_errors_match_pytorch():
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign 'ember.Tensor' as parameter 'weight'"):
        m.weight = ember.zeros(2, 2)
    with pytest.raises(KeyError, match="attribute 'in_features' already exists"):
        m.register_buffer("in_features", ember.zeros(1))
    with pytest.raises(KeyError, match="contain"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(ValueError, match="non-leaf Tensor"):
        m.register_parameter("p", _non_leaf_param())

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def _non_leaf_param():
    p = nn.Parameter(ember.ones(2))
    p.grad_fn = (p * 2).grad_fn  # a Parameter claiming a history
    return p


def test_parameter_is_a_leaf_tensor_sharing_data():
    t = ember.ones(2, 2)
    p = nn.Parameter(t)
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    assert p._array is t._array
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q._array is not p._array
    r = pickle.loads(pickle.dumps(p))
    assert isinstance(r, nn.Parameter) and np.array_equal(r.detach().numpy(), p.detach().numpy())


def test_deepcopy_of_module_keeps_parameters_and_independence():
    m = _mlp(nn)
    c = copy.deepcopy(m)
    assert all(isinstance(p, nn.Parameter) for p in c.parameters())
    with ember.no_grad():
        c[0].weight.fill_(0.0)
    assert not np.all(m[0].weight.detach().numpy() == 0)


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(m.named_modules())) == 3  # Sequential, Linear (once), ReLU
    assert list(m.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


# ---- names match PyTorch ---------------------------------------------------------------------
def test_names_and_shapes_match_pytorch():
    torch = pytest.importorskip("torch")
    for ours, theirs in ((_mlp(nn), _mlp(torch.nn)), (Net(), _torch_net(torch))):
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
        assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
        assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
        assert [n for n, _ in ours.named_children()] == [n for n, _ in theirs.named_children()]
        ours_sd, theirs_sd = ours.state_dict(), theirs.state_dict()
        assert isinstance(ours_sd, OrderedDict)
        assert list(ours_sd) == list(theirs_sd)
        assert [tuple(v.shape) for v in ours_sd.values()] == \
            [tuple(v.shape) for v in theirs_sd.values()]
        assert repr(ours) == repr(theirs)


def test_repr_matches_pytorch_for_every_layer():
    torch = pytest.importorskip("torch")
    tnn = torch.nn
    pairs = [
        (nn.Sequential(nn.Linear(2, 3), nn.Tanh()), tnn.Sequential(tnn.Linear(2, 3), tnn.Tanh())),
        (nn.Linear(4, 2, bias=False), tnn.Linear(4, 2, bias=False)),
        (nn.ReLU(inplace=True), tnn.ReLU(inplace=True)),
        (nn.LeakyReLU(0.2, True), tnn.LeakyReLU(0.2, True)), (nn.ELU(), tnn.ELU()),
        (nn.GELU("tanh"), tnn.GELU("tanh")), (nn.Sigmoid(), tnn.Sigmoid()),
        (nn.Softplus(), tnn.Softplus()), (nn.Softmax(dim=1), tnn.Softmax(dim=1)),
        (nn.LogSoftmax(), tnn.LogSoftmax()), (nn.Dropout(0.1), tnn.Dropout(0.1)),
        (nn.Flatten(), tnn.Flatten()), (nn.Identity(), tnn.Identity()),
        (nn.CrossEntropyLoss(), tnn.CrossEntropyLoss()), (nn.MSELoss(), tnn.MSELoss()),
        (nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()]),
         tnn.ModuleList([tnn.ReLU(), tnn.ReLU(), tnn.Tanh()])),
        (nn.ModuleDict({"a": nn.Linear(1, 1)}), tnn.ModuleDict({"a": tnn.Linear(1, 1)})),
        (nn.Sequential(OrderedDict(enc=nn.Sequential(nn.Linear(1, 2)), act=nn.ReLU())),
         tnn.Sequential(OrderedDict(enc=tnn.Sequential(tnn.Linear(1, 2)), act=tnn.ReLU()))),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


# ---- load_state_dict -------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_load_torch_weights_gives_identical_outputs(dtype):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tmodel = _torch_net(torch).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        tmodel.scale.copy_(torch.tensor([2.0, -0.5]))
    model = Net()
    if dtype == np.float64:
        model.double()
    result = model.load_state_dict(_torch_state_as_numpy(tmodel))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(dtype)
    expected = tmodel(torch.from_numpy(x)).detach().numpy()
    got = model(ember.from_numpy(x)).detach().numpy()
    assert got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 1e-12)


def test_load_state_dict_converts_dtype_and_copies_in_place():
    model = _mlp(nn)
    weight = model[0].weight
    view = model.state_dict()["0.weight"]
    new = {k: np.full(tuple(v.shape), 0.25, dtype=np.float64) for k, v in model.state_dict().items()}
    model.load_state_dict(new)
    assert model[0].weight is weight and weight.dtype == ember.float32
    assert np.all(view.numpy() == 0.25)  # state_dict values share memory, like PyTorch's
    # ember tensors and nested lists are accepted too
    model.load_state_dict({k: ember.tensor(v.tolist()) for k, v in new.items()})
    model.load_state_dict({k: v.tolist() for k, v in new.items()})


def test_load_state_dict_roundtrip_between_ember_models():
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    x = ember.randn(3, 4)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())


def test_load_state_dict_strict_errors_match_pytorch():
    torch = pytest.importorskip("torch")
    model, tmodel = _mlp(nn), _mlp(torch.nn)
    sd = _torch_state_as_numpy(tmodel)
    bad = dict(sd)
    del bad["0.bias"]
    bad["extra.weight"] = np.zeros(1)
    bad["2.weight"] = np.zeros((2, 3), np.float32)
    with pytest.raises(RuntimeError) as ours:
        model.load_state_dict(bad)
    with pytest.raises(RuntimeError) as theirs:
        tmodel.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in bad.items()})
    assert str(ours.value) == str(theirs.value).replace("torch.Size", "ember.Size")
    assert str(ours.value).startswith(
        'Error(s) in loading state_dict for Sequential:\n\tMissing key(s) in state_dict: '
        '"0.bias". \n\tUnexpected key(s) in state_dict: "extra.weight". \n\tsize mismatch for '
        "2.weight: copying a param with shape ember.Size([2, 3]) from checkpoint, the shape in "
        "current model is ember.Size([1, 3]).")


def test_load_state_dict_non_strict_reports_keys():
    model = _mlp(nn)
    sd = {k: v.numpy() for k, v in model.state_dict().items()}
    del sd["2.bias"]
    sd["foo"] = np.zeros(1)
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert missing == ["2.bias"] and unexpected == ["foo"]
    sd["0.weight"] = np.zeros((1, 1))
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        model.load_state_dict(sd, strict=False)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        model.load_state_dict([1, 2])


def test_state_dict_skips_non_persistent_buffers_and_detaches():
    m = Net()
    m.register_buffer("tmp", ember.zeros(1), persistent=False)
    sd = m.state_dict()
    assert "tmp" not in sd and "scale" in sd
    assert all(not v.requires_grad for v in sd.values())
    assert m.state_dict(keep_vars=True)["block.fc.weight"] is m.block.fc.weight


# ---- dtype, modes, grads ---------------------------------------------------------------------
def test_to_float64_keeps_parameter_identity():
    m = Net()
    params = list(m.parameters())
    assert m.to(ember.float64) is m
    assert [id(p) for p in m.parameters()] == [id(p) for p in params]
    assert all(p.dtype == ember.float64 for p in m.parameters())
    assert m.scale.dtype == ember.float64
    out = m(ember.randn(2, 4, dtype=ember.float64))
    assert out.dtype == ember.float64
    m.float()
    assert all(p.dtype == ember.float32 for p in m.parameters())
    with pytest.raises(TypeError, match="floating point"):
        m.to(ember.int64)
    with pytest.raises(NotImplementedError, match="CPU only"):
        m.to("cuda")


def test_train_eval_propagate():
    m = Net()
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    m.train()
    assert all(mod.training for mod in m.modules())
    with pytest.raises(ValueError, match="boolean"):
        m.train("yes")


def test_zero_grad_and_requires_grad():
    m = _mlp(nn)
    m(ember.randn(5, 2)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_visits_children_first_and_hooks_run():
    m = _mlp(nn)
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Sequential"]
    handle = m[0].register_forward_hook(lambda mod, args, out: out * 0)
    assert np.all(m[0](ember.ones(1, 2)).detach().numpy() == 0)
    handle.remove()
    assert not np.all(m[0](ember.ones(1, 2)).detach().numpy() == 0)


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


# ---- containers ------------------------------------------------------------------------------
def test_sequential_indexing_slicing_and_mutation():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear) and isinstance(s[1], nn.ReLU)
    head = s[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is s[0]
    s.append(nn.Sigmoid())
    assert list(s._modules) == ["0", "1", "2", "3"]
    del s[1]
    assert list(s._modules) == ["0", "1", "2"] and isinstance(s[1], nn.Linear)
    assert [type(m).__name__ for m in s] == ["Linear", "Linear", "Sigmoid"]
    with pytest.raises(IndexError):
        s[5]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and named.fc is named[0]


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(1, 1)])
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh(), nn.Linear(1, 2)])
    ml.insert(0, nn.Identity())
    assert [type(m).__name__ for m in ml] == ["Identity", "Linear", "ReLU", "Tanh", "Linear"]
    assert len(ml) == 5 and isinstance(ml[-1], nn.Linear) and len(ml[1:3]) == 2
    assert [n for n, _ in ml.named_parameters()] == ["1.weight", "1.bias", "4.weight", "4.bias"]
    md = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(md) == ["a", "b"] and "a" in md and len(md) == 2
    assert list(md.state_dict()) == ["a.weight", "a.bias"]


# ---- layers ----------------------------------------------------------------------------------
def test_linear_default_init_bounds_and_statistics():
    ember.manual_seed(0)
    fan_in = 400
    lin = nn.Linear(fan_in, 300)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) reduces to this bound
    assert w.dtype == np.float32 and w.shape == (300, fan_in) and b.shape == (300,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound   # std of U(-bound, bound)
    assert abs(w.mean()) < 0.01 * bound
    assert np.abs(w).max() > 0.99 * bound
    # reproducible through ember.manual_seed
    ember.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(fan_in, 300).weight.detach().numpy(), w)
    assert nn.Linear(3, 2, dtype=ember.float64).weight.dtype == ember.float64
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_forward_matches_numpy():
    lin = nn.Linear(3, 2)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    expected = x @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(lin(ember.from_numpy(x)).detach().numpy(), expected, rtol=1e-6)
    assert tuple(nn.Flatten()(ember.zeros(2, 3, 4)).shape) == (2, 12)


def test_dropout_train_and_eval():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        nn.Dropout(-0.1)
    ember.manual_seed(0)
    d = nn.Dropout(0.25)
    x = ember.ones(200, 100)
    y = d(x).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)   # survivors scaled by 1/(1-p)
    assert abs(kept.mean() - 0.75) < 0.02
    d.eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    assert np.all(nn.Dropout(1.0)(x).numpy() == 0)


def test_activation_modules_match_functional():
    x = ember.randn(3, 4)
    cases = [(nn.ReLU(), F.relu(x)),
             (nn.LeakyReLU(0.2), F.leaky_relu(x, 0.2)), (nn.ELU(0.5), F.elu(x, 0.5)),
             (nn.GELU(), F.gelu(x)), (nn.GELU("tanh"), F.gelu(x, approximate="tanh")),
             (nn.Sigmoid(), F.sigmoid(x)), (nn.Tanh(), F.tanh(x)),
             (nn.Softplus(2.0, 5.0), F.softplus(x, 2.0, 5.0)), (nn.Softmax(1), F.softmax(x, 1)),
             (nn.LogSoftmax(dim=0), F.log_softmax(x, 0))]
    for module, expected in cases:
        np.testing.assert_array_equal(module(x).numpy(), expected.numpy())
    # inplace=True returns the input itself, now holding the result (PyTorch semantics).
    y = x.clone()
    assert nn.ReLU(inplace=True)(y) is y
    np.testing.assert_array_equal(y.numpy(), F.relu(x).numpy())
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


# ---- losses ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.SmoothL1Loss,
                                 nn.CrossEntropyLoss, nn.NLLLoss, nn.BCELoss,
                                 nn.BCEWithLogitsLoss])
def test_loss_reduction_validated_at_construction(cls):
    with pytest.raises(ValueError, match=f"{cls.__name__}: reduction must be one of .*"
                                         "Received: reduction='average'"):
        cls(reduction="average")
    assert cls(reduction="sum").reduction == "sum"


def test_loss_weights_are_buffers_and_bad_values_rejected():
    w = ember.tensor([1.0, 2.0, 3.0])
    ce = nn.CrossEntropyLoss(weight=w)
    assert ce.weight is w and list(ce.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    bce = nn.BCEWithLogitsLoss(pos_weight=ember.ones(2))
    assert list(bce.state_dict()) == ["pos_weight"]
    ce.double()
    assert ce.weight.dtype == ember.float64
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="delta"):
        nn.HuberLoss(delta=0)


def test_loss_modules_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 3))
    y = rng.standard_normal((5, 3))
    p = 1 / (1 + np.exp(-x))
    t01 = rng.random((5, 3))
    cls = np.array([0, 2, 1, 2, 0])
    w = np.array([0.5, 1.0, 2.0])
    cases = [
        ("MSELoss", {}, x, y), ("L1Loss", {"reduction": "sum"}, x, y),
        ("HuberLoss", {"delta": 0.5}, x, y), ("SmoothL1Loss", {"beta": 0.7}, x, y),
        ("CrossEntropyLoss", {"weight": w, "label_smoothing": 0.1}, x, cls),
        ("NLLLoss", {"weight": w, "reduction": "none"}, np.log(p), cls),
        ("BCELoss", {}, p, t01),
        ("BCEWithLogitsLoss", {"pos_weight": np.array([1.0, 2.0, 3.0])}, x, t01),
    ]
    for name, kwargs, inp, tgt in cases:
        ours = getattr(nn, name)(**{k: ember.tensor(v, dtype=ember.float64) if isinstance(v, np.ndarray)
                                    else v for k, v in kwargs.items()})
        theirs = getattr(torch.nn, name)(**{k: torch.from_numpy(v) if isinstance(v, np.ndarray)
                                           else v for k, v in kwargs.items()})
        got = ours(ember.from_numpy(inp), ember.from_numpy(tgt)).numpy()
        expected = theirs(torch.from_numpy(inp), torch.from_numpy(tgt)).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14, err_msg=name)


# ---- init ------------------------------------------------------------------------------------
def test_init_gains_and_fans_match_pytorch():
    torch = pytest.importorskip("torch")
    for args in [("linear",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
                 ("leaky_relu", 0.2), ("selu",), ("conv2d",)]:
        assert nn.init.calculate_gain(*args) == torch.nn.init.calculate_gain(*args)
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        nn.init.calculate_gain("swish")
    w = ember.empty(6, 4, 3, 3)
    assert nn.init._calculate_fan_in_and_fan_out(w) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(6, 4, 3, 3)) == (36, 54)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(ember.empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        nn.init.kaiming_uniform_(w, mode="fan_avg")


def test_init_functions_fill_in_place_with_the_right_distribution():
    ember.manual_seed(0)
    w = nn.Parameter(ember.empty(200, 300))
    array = w._array
    assert nn.init.xavier_uniform_(w, gain=2.0) is w and w._array is array and w.is_leaf
    a = 2.0 * math.sqrt(6 / 500)
    assert np.abs(w.detach().numpy()).max() <= a and w.detach().numpy().max() > 0.99 * a
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.detach().numpy().std() - math.sqrt(2 / 200)) < 0.02 * math.sqrt(2 / 200)
    nn.init.xavier_normal_(w)
    assert abs(w.detach().numpy().std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    nn.init.trunc_normal_(w, mean=0.5, std=1.0, a=0.0, b=1.0)
    values = w.detach().numpy()
    assert values.min() >= 0.0 and values.max() <= 1.0 and abs(values.mean() - 0.5) < 0.01
    nn.init.normal_(w, 3.0, 0.5)
    assert abs(w.detach().numpy().mean() - 3.0) < 0.01
    nn.init.constant_(w, 0.5)
    assert np.all(w.detach().numpy() == 0.5)
    nn.init.zeros_(w)
    nn.init.ones_(w)
    assert np.all(w.detach().numpy() == 1.0)
    e = nn.init.eye_(ember.empty(3, 4))
    np.testing.assert_array_equal(e.numpy(), np.eye(3, 4))
    for shape in [(5, 8), (8, 5), (4, 2, 3)]:
        q = nn.init.orthogonal_(ember.empty(*shape), gain=1.5).numpy().reshape(shape[0], -1)
        small = q @ q.T if shape[0] <= q.shape[1] else q.T @ q
        np.testing.assert_allclose(small, 2.25 * np.eye(len(small)), atol=1e-5)


def test_init_is_reproducible_with_seed_and_generator():
    ember.manual_seed(5)
    a = nn.init.kaiming_uniform_(ember.empty(4, 4)).numpy().copy()
    ember.manual_seed(5)
    np.testing.assert_array_equal(nn.init.kaiming_uniform_(ember.empty(4, 4)).numpy(), a)
    g1, g2 = ember.Generator().manual_seed(1), ember.Generator().manual_seed(1)
    x = nn.init.uniform_(ember.empty(10), -1, 1, generator=g1).numpy().copy()
    np.testing.assert_array_equal(nn.init.uniform_(ember.empty(10), -1, 1, generator=g2).numpy(), x)
    o1 = nn.init.orthogonal_(ember.empty(3, 3), generator=ember.Generator().manual_seed(2)).numpy()
    o2 = nn.init.orthogonal_(ember.empty(3, 3), generator=ember.Generator().manual_seed(2)).numpy()
    np.testing.assert_array_equal(o1, o2)


def test_parameters_match_named_parameters_with_shared_modules_and_parameters():
    shared = nn.Linear(3, 3)
    inner = nn.Sequential(shared, nn.ReLU(), nn.Linear(3, 2))
    model = nn.Sequential(inner, shared, nn.Sequential(inner))
    model[0][2].bias = model[0][0].bias  # one Parameter registered twice
    assert [id(p) for p in model.parameters()] == \
        [id(p) for _, p in model.named_parameters()]
    assert [id(p) for p in model.parameters(recurse=False)] == []
    assert len(list(model.parameters())) == 3
