"""A PyTorch-style training script, run with only its imports changed to ember.

It uses the idioms of issue 8's devices slice the way tutorials write them: the device line,
cudnn flags, CUDA seeding, `.to(device)`, `torch.compile`, legacy `Variable`/`LongTensor`,
`f"{loss:.4f}"`, a whole-model save and a `safe_globals` load, and `except RuntimeError`.
"""
import sys
import textwrap
import types
import warnings

import pytest

SCRIPT = textwrap.dedent('''
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torch.onnx
    from torch.autograd import Variable

    torch.manual_seed(1)
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        torch.cuda.manual_seed(1)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    device = torch.device("cuda" if use_cuda else "cpu")
    accel = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() \\
        else "cpu"

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 16)
            self.fc2 = nn.Linear(16, 2)

        def forward(self, x):
            return F.log_softmax(self.fc2(F.relu(self.fc1(x))), dim=1)

    # Two blobs, labels from which side of a line a point is on.
    x = torch.randn(256, 2, device=device)
    y = torch.LongTensor((x[:, 0] + x[:, 1] > 0).long().tolist())
    net = Net().to(device)
    model = torch.compile(net, backend="eager")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    log = []
    for epoch in range(1, 31):
        data, target = Variable(x).to(device), y.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        log.append(f"Train Epoch: {epoch}\\tLoss: {loss:.6f}")

    with torch.no_grad():
        correct = (model(x.to(device)).argmax(dim=1) == y).sum().item()
    torch.save(net, "model.pt")  # the module itself: PyTorch's compiled wrapper is no Net
    with torch.serialization.safe_globals([Net, nn.Linear]):
        reloaded = torch.load("model.pt", map_location=device)
    same = torch.equal(reloaded(x), net(x))
    try:
        model(torch.randn(4, 3))
        shape_error = None
    except RuntimeError as e:
        shape_error = str(e)
''')


def _run(source, monkeypatch) -> dict:
    """Runs `source` as the module `script` (so pickle finds its classes, as in __main__)."""
    module = types.ModuleType("script")
    monkeypatch.setitem(sys.modules, "script", module)
    exec(compile(source, "script.py", "exec"), module.__dict__)
    return module.__dict__


def test_the_script_runs_with_only_its_imports_changed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = SCRIPT.replace("import torch.nn.functional as F", "import ember.nn.functional as F")
    source = source.replace("import torch.nn as nn", "import ember.nn as nn")
    source = source.replace("import torch.onnx", "import ember.onnx")
    source = source.replace("from torch.autograd", "from ember.autograd")
    source = source.replace("import torch\n", "import ember as torch\n")
    assert "torch." in source and "import torch" not in source
    scope = _run(source, monkeypatch)
    assert scope["accel"] == "cpu" and str(scope["device"]) == "cpu"
    assert scope["correct"] >= 240  # a linearly separable problem, learnt
    assert scope["log"][-1].startswith("Train Epoch: 30\tLoss: 0.")
    assert scope["same"] and (tmp_path / "model.pt").exists()
    assert "linear" in scope["shape_error"] and "(4, 3)" in scope["shape_error"]


def test_the_same_script_runs_in_pytorch(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.compile's own imports
        scope = _run(SCRIPT, monkeypatch)
    assert scope["accel"] == "cpu" and scope["correct"] >= 240 and scope["same"]
    assert scope["shape_error"] is not None
