"""ember.compile keeps PyTorch's signature and returns what it is given; ember.onnx imports."""
import pytest

import ember
import ember.nn as nn


def test_compiled_model_is_the_model_and_trains():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    compiled = ember.compile(model, fullgraph=False, dynamic=None, backend="inductor",
                             mode="reduce-overhead", disable=False)
    assert compiled is model
    assert list(compiled.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    x = ember.randn(64, 2)
    y = (x[:, :1] * x[:, 1:]).detach()
    opt = ember.optim.Adam(compiled.parameters(), lr=0.05)
    first = None
    for _ in range(150):
        loss = nn.functional.mse_loss(compiled(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.3 * first


def test_compile_as_decorator_with_and_without_arguments():
    @ember.compile
    def double(x):
        return x * 2

    @ember.compile(options={"triton.cudagraphs": False}, backend="eager")
    def triple(x):
        return x * 3

    assert double(ember.ones(2)).tolist() == [2.0, 2.0]
    assert triple(ember.ones(1)).tolist() == [3.0]
    assert double.__name__ == "double" and triple.__name__ == "triple"


@pytest.mark.parametrize("kwargs, error, match", [
    ({"mode": "fastest"}, RuntimeError, "unrecognized mode='fastest'"),
    ({"mode": "default", "options": {}}, RuntimeError, "Either mode or options"),
    ({"options": ["x"]}, TypeError, "options must be a dict"),
    ({"backend": 3}, TypeError, "backend must be a name or a callable"),
])
def test_compile_checks_its_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ember.compile(nn.Linear(1, 1), **kwargs)


def test_compile_refuses_what_cannot_be_called():
    with pytest.raises(RuntimeError, match="compile: model must be a Module or a function, got "
                                           "int"):
        ember.compile(3)


def test_compile_checks_match_pytorch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        torch.compile(torch.nn.Linear(1, 1), mode="default", options={})

