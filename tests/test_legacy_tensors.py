"""Legacy PyTorch names: FloatTensor & co., Tensor.type(), autograd.Variable, format()."""
import numpy as np
import pytest

import ember
from ember.autograd import Variable

LEGACY = [("FloatTensor", ember.float32), ("DoubleTensor", ember.float64),
          ("HalfTensor", ember.float16), ("LongTensor", ember.int64), ("IntTensor", ember.int32),
          ("ShortTensor", ember.int16), ("CharTensor", ember.int8), ("ByteTensor", ember.uint8),
          ("BoolTensor", ember.bool)]


@pytest.mark.parametrize("name, dt", LEGACY)
def test_legacy_constructors_build_from_sizes_and_data(name, dt):
    cls = getattr(ember, name)
    assert cls.dtype is dt
    t = cls(2, 3)
    assert t.shape == (2, 3) and t.dtype == dt and not t.requires_grad
    assert cls(ember.Size([4])).shape == (4,)
    assert cls().shape == (0,) and cls().dtype == dt
    data = cls([1, 0, 1])
    assert data.dtype == dt and data.tolist() == np.array([1, 0, 1], dt.numpy).tolist()
    assert cls(np.array([[1, 0]])).shape == (1, 2)


@pytest.mark.parametrize("name, dt", LEGACY)
def test_isinstance_asks_for_the_dtype(name, dt):
    cls = getattr(ember, name)
    assert isinstance(ember.zeros(2, dtype=dt), cls)
    others = [d for _, d in LEGACY if d is not dt]
    assert not any(isinstance(ember.zeros(2, dtype=d), cls) for d in others)
    assert not isinstance(np.zeros(2, dt.numpy), cls)


def test_legacy_constructors_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [("LongTensor", [1.7, -1.7]), ("FloatTensor", [[1, 2], [3, 4]]),
             ("ByteTensor", [0, 255]), ("BoolTensor", [1, 0, 2]), ("DoubleTensor", 1.5)]
    for name, data in cases:
        if np.ndim(data) == 0:
            data = [data]
        ours, theirs = getattr(ember, name)(data), getattr(torch, name)(data)
        assert ours.tolist() == theirs.tolist()
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    assert ember.FloatTensor(3, 2).shape == tuple(torch.FloatTensor(3, 2).shape)


def test_legacy_constructor_from_a_tensor_aliases_it_or_refuses_another_dtype():
    t = ember.tensor([1, 2])
    alias = ember.LongTensor(t)
    alias[0] = 7
    assert t.tolist() == [7, 2]
    with pytest.raises(TypeError, match="FloatTensor: expected ember.float32 tensor, got "
                                        "ember.int64"):
        ember.FloatTensor(t)


def test_legacy_constructor_errors():
    with pytest.raises(TypeError, match="FloatTensor: expected sizes"):
        ember.FloatTensor(2, [1])
    with pytest.raises(NotImplementedError, match="LongTensor: .*CUDA"):
        ember.LongTensor(2, device="cuda")
    assert ember.LongTensor(2, device="cpu").shape == (2,)


@pytest.mark.parametrize("name, dt", LEGACY)
def test_type_returns_pytorch_spelling(name, dt):
    assert ember.zeros(1, dtype=dt).type() == f"torch.{name}"


def test_type_matches_pytorch():
    torch = pytest.importorskip("torch")
    for dt in ("float32", "float64", "int64", "int32", "uint8", "bool"):
        assert ember.zeros(1, dtype=getattr(ember, dt)).type() == \
            torch.zeros(1, dtype=getattr(torch, dt)).type()


@pytest.mark.parametrize("target", [ember.DoubleTensor, "torch.DoubleTensor", "ember.DoubleTensor",
                                    ember.float64])
def test_type_casts(target):
    t = ember.tensor([1.5, 2.5], requires_grad=True)
    out = t.type(target)
    assert out.dtype == ember.float64 and out.tolist() == [1.5, 2.5]
    out.sum().backward()
    assert t.grad.tolist() == [1.0, 1.0]
    assert t.type(ember.FloatTensor) is t


@pytest.mark.parametrize("target", [ember.DoubleTensor, "torch.DoubleTensor", ember.float64])
def test_module_type_casts_to_a_legacy_type(target):
    model = ember.nn.Linear(2, 1)
    assert model.type(target) is model and model.weight.dtype == ember.float64
    with pytest.raises(ValueError, match="Module.type: invalid type 'torch.Nope'"):
        model.type("torch.Nope")


def test_module_type_matches_pytorch():
    torch = pytest.importorskip("torch")
    assert torch.nn.Linear(2, 1).type("torch.DoubleTensor").weight.dtype == torch.float64


def test_to_accepts_a_legacy_type():
    assert ember.ones(2).to(ember.LongTensor).dtype == ember.int64


def test_type_rejects_unknown_names():
    with pytest.raises(ValueError, match="Tensor.type: invalid type 'torch.Foo'"):
        ember.ones(1).type("torch.Foo")


# ---- Variable -----------------------------------------------------------------------------------

def test_variable_returns_a_tensor_sharing_data():
    x = ember.tensor([1.0, 2.0])
    v = Variable(x, requires_grad=True)
    assert type(v) is ember.Tensor and v.requires_grad and v.is_leaf and v is not x
    assert isinstance(v, Variable) and isinstance(x, Variable)
    (v * v).sum().backward()
    assert v.grad.tolist() == [2.0, 4.0]
    assert x.grad is None
    assert not Variable(x).requires_grad
    x.data[0] = 5.0
    assert v.tolist() == [5.0, 2.0]
    assert ember.autograd.Variable is Variable


def test_variable_volatile_warns_as_pytorch_and_bad_data_is_refused():
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(ember.ones(1), volatile=True)
    with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
        Variable([1.0])
    with pytest.raises(RuntimeError, match="floating point"):
        Variable(ember.tensor([1]), requires_grad=True)


def test_variable_matches_pytorch():
    torch = pytest.importorskip("torch")
    theirs = torch.autograd.Variable(torch.tensor([1.0, 2.0]), requires_grad=True)
    ours = Variable(ember.tensor([1.0, 2.0]), requires_grad=True)
    (theirs ** 3).sum().backward()
    (ours ** 3).sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist()


# ---- format -------------------------------------------------------------------------------------

def test_zero_dim_tensors_format_as_numbers():
    loss = ember.tensor(1.23456)
    assert f"{loss:.4f}" == "1.2346"
    assert format(ember.tensor(3), "d") == "3"
    assert f"{ember.tensor(0.5):>8.2%}" == "  50.00%"
    assert f"{ember.tensor(True)}" == "True"
    assert f"{ember.ones(2)}" == repr(ember.ones(2))


def test_format_matches_pytorch():
    torch = pytest.importorskip("torch")
    for value, spec in ((1.23456, ".2f"), (7, "04d"), (2.5, "e"), (3.0, "")):
        assert format(ember.tensor(value), spec) == format(torch.tensor(value), spec)
    assert format(ember.tensor([1.0]), "") == "tensor([1.])" == format(torch.tensor([1.0]), "")


def test_format_spec_on_a_non_scalar_is_a_type_error():
    with pytest.raises(TypeError, match="unsupported format string '.2f' passed to "
                                        "Tensor.__format__.*shape \\(1,\\)"):
        format(ember.tensor([1.0]), ".2f")
    with pytest.raises(TypeError, match="shape \\(2, 2\\)"):
        f"{ember.ones(2, 2):.1f}"
