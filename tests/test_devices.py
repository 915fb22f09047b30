"""ember.device, ember.cuda, ember.backends and ember.accelerator as PyTorch scripts use them."""
import pickle

import numpy as np
import pytest

import ember
import ember.nn as nn

CUDA_ERROR = "CUDA is not available in ember"


@pytest.fixture(autouse=True)
def restore_cudnn_flags():
    cudnn = ember.backends.cudnn
    saved = (cudnn.enabled, cudnn.benchmark, cudnn.deterministic)
    yield
    cudnn.enabled, cudnn.benchmark, cudnn.deterministic = saved


# ---- the idiom lines, as scripts write them -----------------------------------------------------

def test_the_device_idiom_picks_the_cpu_and_a_model_trains_on_it():
    torch = ember
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.manual_seed(1)
    torch.cuda.manual_seed(1)
    torch.cuda.manual_seed_all(1)
    model = nn.Linear(3, 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(32, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    losses = []
    for _ in range(30):
        xb, yb = x.to(device), y.to(device)
        loss = nn.functional.mse_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    assert device == torch.device("cpu")
    assert losses[-1] < 0.1 * losses[0]


def test_the_accelerator_idiom_picks_cpu():
    torch = ember
    kind = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \
        else "cpu"
    assert kind == "cpu"
    assert torch.accelerator.current_accelerator() is None
    assert torch.accelerator.device_count() == 0


def test_cuda_reports_no_gpu():
    assert ember.cuda.is_available() is False
    assert ember.cuda.device_count() == 0
    assert ember.cuda.is_initialized() is False
    with pytest.raises(NotImplementedError, match="current_device.*CUDA"):
        ember.cuda.current_device()
    with pytest.raises(NotImplementedError, match="CUDA"):
        ember.cuda.get_device_name(0)
    with pytest.raises(ValueError):
        ember.cuda.manual_seed("not a number")


def test_backend_flags_are_settable_and_backends_absent():
    cudnn = ember.backends.cudnn
    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, False, False)
    cudnn.deterministic = True
    cudnn.benchmark = True
    cudnn.enabled = False
    assert (ember.backends.cudnn.deterministic, ember.backends.cudnn.benchmark,
            ember.backends.cudnn.enabled) == (True, True, False)
    assert cudnn.is_available() is False and cudnn.version() is None
    assert ember.backends.mps.is_available() is False
    assert ember.backends.mps.is_built() is False


def test_backend_flags_and_answers_match_pytorch_without_a_gpu():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available() or torch.backends.mps.is_available():
        pytest.skip("this PyTorch has a GPU")
    for path in ("cuda.matmul.allow_tf32", "cuda.matmul.allow_fp16_reduced_precision_reduction",
                 "cudnn.allow_tf32", "cudnn.enabled", "cudnn.benchmark", "cudnn.deterministic"):
        ours, theirs = ember.backends, torch.backends
        for part in path.split("."):
            ours, theirs = getattr(ours, part), getattr(theirs, part)
        assert ours == theirs, path
    assert ember.backends.cuda.is_built() is False
    ember.backends.cuda.matmul.allow_tf32 = True
    ember.backends.cuda.matmul.allow_tf32 = False
    for name in ("is_available", "device_count"):
        assert getattr(ember.cuda, name)() == getattr(torch.cuda, name)()
        assert getattr(ember.accelerator, name)() == getattr(torch.accelerator, name)()
    assert ember.accelerator.current_accelerator() == torch.accelerator.current_accelerator()
    assert ember.backends.mps.is_available() == torch.backends.mps.is_available()


# ---- ember.device -------------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, kind, index, text, rep", [
    (("cpu",), {}, "cpu", None, "cpu", "device(type='cpu')"),
    (("cpu:0",), {}, "cpu", 0, "cpu:0", "device(type='cpu', index=0)"),
    ((), {"type": "cpu"}, "cpu", None, "cpu", "device(type='cpu')"),
    (("cuda",), {}, "cuda", None, "cuda", "device(type='cuda')"),
    (("cuda", 1), {}, "cuda", 1, "cuda:1", "device(type='cuda', index=1)"),
    ((), {"type": "cuda", "index": 0}, "cuda", 0, "cuda:0", "device(type='cuda', index=0)"),
    (("mps",), {}, "mps", None, "mps", "device(type='mps')"),
    ((2,), {}, "cuda", 2, "cuda:2", "device(type='cuda', index=2)"),
])
def test_device_construction_prints_like_pytorch(args, kwargs, kind, index, text, rep):
    d = ember.device(*args, **kwargs)
    assert (d.type, d.index, str(d), repr(d)) == (kind, index, text, rep)
    assert ember.device(d) == d
    assert pickle.loads(pickle.dumps(d)) == d


def test_device_matches_pytorch():
    torch = pytest.importorskip("torch")
    for spec in ("cpu", "cpu:0", "cuda", "cuda:3", "mps", "meta"):
        assert repr(ember.device(spec)) == repr(torch.device(spec))
        assert str(ember.device(spec)) == str(torch.device(spec))
    assert (ember.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")


def test_device_equality_and_hash():
    assert ember.device("cpu") == ember.device(type="cpu")
    assert ember.device("cpu") != ember.device("cpu:0")
    assert ember.device("cuda:0") == ember.device("cuda", 0)
    assert ember.device("cpu") != "cpu"  # as PyTorch: a device equals only a device
    assert len({ember.device("cpu"), ember.device("cpu"), ember.device("cuda")}) == 2


@pytest.mark.parametrize("args, error, match", [
    (("gpu",), RuntimeError, "Expected one of cpu, cuda.*device string: gpu"),
    (("cuda:x",), RuntimeError, "Invalid device string: 'cuda:x'"),
    (("cuda:-1",), RuntimeError, "Invalid device string"),
    (("cuda", -1), RuntimeError, "Device index must not be negative"),
    (("cuda:0", 1), RuntimeError, "must not include an index"),
    ((1.5,), TypeError, "expected a string"),
    (("cuda", "0"), TypeError, "index must be an int"),
])
def test_bad_devices_are_refused(args, error, match):
    with pytest.raises(error, match=match):
        ember.device(*args)


# ---- tensors ------------------------------------------------------------------------------------

def test_tensor_device_is_a_cpu_device():
    t = ember.ones(2)
    assert t.device == ember.device("cpu")
    assert isinstance(t.device, ember.device)
    assert t.device.type == "cpu" and str(t.device) == "cpu"
    assert (t.is_cpu, t.is_cuda, t.get_device()) == (True, False, -1)


def test_every_device_and_layout_flag_of_a_pytorch_cpu_tensor():
    # pytorch/examples dcgan: `if (input.is_cuda or input.is_xpu) and self.ngpu > 1`.
    torch = pytest.importorskip("torch")
    reference = torch.ones(2)
    flags = [n for n in dir(reference) if n.startswith("is_") and n != "is_leaf"
             and not callable(getattr(reference, n))]
    assert "is_xpu" in flags and "is_mps" in flags
    t = ember.ones(2)
    assert {n: getattr(t, n) for n in flags} == {n: getattr(reference, n) for n in flags}


@pytest.mark.parametrize("where", ["cpu", "cpu:0", ember.device("cpu"), ember.device("cpu", 0)])
def test_tensor_to_cpu_keeps_the_tensor(where):
    t = ember.ones(2, 3)
    assert t.to(where) is t
    assert t.to(device=where) is t
    assert t.cpu() is t


def test_tensor_to_device_and_dtype_forms():
    t = ember.tensor([1.5, -2.0])
    assert t.to("cpu", ember.float64).dtype == ember.float64
    assert t.to(ember.device("cpu"), dtype=ember.int64).tolist() == [1, -2]
    assert t.to(device="cpu", dtype=ember.float64).dtype == ember.float64
    other = ember.zeros(1, dtype=ember.float64)
    assert t.to(other).dtype == ember.float64
    assert t.to(ember.float32, non_blocking=True) is t
    assert t.to("cpu", ember.float32, True, False) is t


def test_tensor_to_copy_returns_a_new_tensor_with_a_gradient_path():
    t = ember.tensor([1.0, 2.0], requires_grad=True)
    c = t.to("cpu", copy=True)
    assert c is not t and not np.shares_memory(c.detach().numpy(), t.detach().numpy())
    (c * 3).sum().backward()
    assert t.grad.tolist() == [3.0, 3.0]


def test_tensor_to_rejects_unknown_keywords_and_extra_flags():
    t = ember.ones(1)
    with pytest.raises(TypeError, match="unexpected keyword arguments \\['memory_format'\\]"):
        t.to("cpu", memory_format=None)
    with pytest.raises(TypeError, match="at most 2 boolean flags"):
        t.to("cpu", True, True, True)


@pytest.mark.parametrize("where", ["cuda", "cuda:0", ember.device("cuda", 1), 0])
def test_moving_a_tensor_to_cuda_names_cuda(where):
    t = ember.ones(2)
    with pytest.raises(NotImplementedError, match=f"Tensor.to: .*CPU only.*{CUDA_ERROR}"):
        t.to(where)
    with pytest.raises(NotImplementedError, match=CUDA_ERROR):
        t.to(device=where, dtype=ember.float64)


def test_cuda_methods_and_other_backends_raise():
    with pytest.raises(NotImplementedError, match="Tensor.cuda.*CUDA"):
        ember.ones(1).cuda()
    with pytest.raises(NotImplementedError, match="Module.cuda.*CUDA"):
        nn.Linear(1, 1).cuda()
    with pytest.raises(NotImplementedError, match="'mps'.*MPS is not available"):
        ember.ones(1).to("mps")
    with pytest.raises(NotImplementedError, match="'meta': ember has no meta backend"):
        ember.ones(1).to("meta")
    # A RuntimeError too, which is what PyTorch raises without a GPU.
    with pytest.raises(RuntimeError):
        ember.ones(1).to("cuda")


# ---- modules ------------------------------------------------------------------------------------

def test_module_to_device_returns_the_module_and_keeps_parameters():
    m = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    params = list(m.parameters())
    assert m.to(ember.device("cpu")) is m
    assert m.to("cpu:0") is m and m.cpu() is m
    assert m.to(device="cpu") is m
    assert all(a is b for a, b in zip(params, m.parameters()))
    m.to(ember.device("cpu"), ember.float64)
    assert all(p.dtype == ember.float64 for p in m.parameters())
    m.to(ember.zeros(1), non_blocking=True)
    assert all(p.dtype == ember.float32 for p in m.parameters())


def test_module_to_cuda_names_cuda_and_changes_nothing():
    m = nn.Linear(2, 2)
    with pytest.raises(NotImplementedError, match=f"Module.to: .*{CUDA_ERROR}"):
        m.to("cuda", ember.float64)
    assert m.weight.dtype == ember.float32
    with pytest.raises(TypeError, match="copy"):
        m.to("cpu", copy=True)


@pytest.mark.parametrize("make", [
    lambda d: nn.Linear(2, 2, device=d),
    lambda d: nn.Conv2d(1, 1, 3, device=d),
    lambda d: nn.LSTM(2, 2, device=d),
    lambda d: nn.Embedding(3, 2, device=d),
    lambda d: nn.LazyLinear(2, device=d),
    lambda d: nn.ConvTranspose2d(1, 1, 3, device=d),
    lambda d: nn.GroupNorm(1, 2, device=d),
])
def test_layers_accept_cpu_devices_and_refuse_cuda(make):
    for d in ("cpu", "cpu:0", ember.device("cpu")):
        make(d)
    with pytest.raises(NotImplementedError, match=CUDA_ERROR):
        make(ember.device("cuda"))


# ---- creation functions -------------------------------------------------------------------------

CREATORS = [
    ("tensor", lambda d: ember.tensor([1.0], device=d)),
    ("as_tensor", lambda d: ember.as_tensor([1.0], device=d)),
    ("zeros", lambda d: ember.zeros(2, device=d)),
    ("ones", lambda d: ember.ones(2, 3, device=d)),
    ("empty", lambda d: ember.empty(2, device=d)),
    ("full", lambda d: ember.full((2,), 1.0, device=d)),
    ("eye", lambda d: ember.eye(2, device=d)),
    ("arange", lambda d: ember.arange(3, device=d)),
    ("linspace", lambda d: ember.linspace(0, 1, 3, device=d)),
    ("rand", lambda d: ember.rand(2, device=d)),
    ("randn", lambda d: ember.randn(2, device=d)),
    ("randint", lambda d: ember.randint(0, 3, (2,), device=d)),
    ("randperm", lambda d: ember.randperm(3, device=d)),
    ("zeros_like", lambda d: ember.zeros_like(ember.ones(2), device=d)),
    ("ones_like", lambda d: ember.ones_like(ember.ones(2), device=d)),
    ("empty_like", lambda d: ember.empty_like(ember.ones(2), device=d)),
    ("rand_like", lambda d: ember.rand_like(ember.ones(2), device=d)),
    ("randn_like", lambda d: ember.randn_like(ember.ones(2), device=d)),
    ("full_like", lambda d: ember.full_like(ember.ones(2), 3.0, device=d)),
    ("randint_like", lambda d: ember.randint_like(ember.ones(2), 0, 5, device=d)),
    ("normal", lambda d: ember.normal(0.0, 1.0, (2,), device=d)),
]


@pytest.mark.parametrize("name, make", CREATORS, ids=[n for n, _ in CREATORS])
def test_creation_functions_take_cpu_devices_and_refuse_cuda(name, make):
    for d in (None, "cpu", "cpu:0", ember.device("cpu")):
        assert make(d).device == ember.device("cpu")
    with pytest.raises(NotImplementedError, match=f"^{name}: .*{CUDA_ERROR}"):
        make("cuda")


def test_creation_checks_a_positionally_passed_device():
    with pytest.raises(NotImplementedError, match="^tensor: .*CUDA"):
        ember.tensor([1.0], None, "cuda")
    with pytest.raises(NotImplementedError, match="^full: .*CUDA"):
        ember.full((1,), 0.0, None, "cuda:0")


def test_generator_accepts_cpu_devices():
    assert ember.Generator(ember.device("cpu")).manual_seed(3).initial_seed() == 3
    with pytest.raises(NotImplementedError, match="Generator: .*CUDA"):
        ember.Generator("cuda")
