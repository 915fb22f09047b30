"""ONNX files written by PyTorch 2.13's exporter for the anchor models (MLP, pytorch/examples'
MNIST Net, the Keras CNN written in torch, LSTM and GRU classifiers) load in ember and give
onnxruntime's outputs (1e-5) at two batch sizes; the loaded weights are Parameters that train,
with PyTorch's gradients."""
import numpy as np
import pytest

from onnx_load_helpers import recurrent_classifier, run_ort, torch_export

import ember

torch = pytest.importorskip("torch")
nn = torch.nn


def mnist_net():
    """pytorch/examples' mnist/main.py Net, layer for layer."""
    return nn.Sequential(nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128),
                         nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10), nn.LogSoftmax(dim=1))


def mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def keras_cnn():
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 10),
                         nn.Softmax(dim=1))


def images(batch):
    return np.random.default_rng(batch).standard_normal((batch, 1, 28, 28)).astype(np.float32)


def tokens(batch, steps=7):
    return np.random.default_rng(batch).integers(0, 1000, (batch, steps)).astype(np.int64)


ANCHORS = {
    "mlp": (mlp, lambda b: np.random.default_rng(b).standard_normal((b, 784)).astype(
        np.float32)),
    "mnist-net": (mnist_net, images),
    "keras-cnn": (keras_cnn, images),
    "lstm": (lambda: recurrent_classifier(nn, nn.LSTM, 1000, 128, 2), tokens),
    "gru": (lambda: recurrent_classifier(nn, nn.GRU, 1000, 128, 2), tokens),
}


def export(name, path, dynamic=True, **kwargs):
    make, data = ANCHORS[name]
    torch.manual_seed(0)
    model = make().eval()
    axes = {"x": {0: "batch"}, "y": {0: "batch"}} if dynamic else None
    torch_export(model, (torch.from_numpy(data(2)),), path, input_names=["x"],
                 output_names=["y"], dynamic_axes=axes, **kwargs)
    return model, data


@pytest.mark.parametrize("name", ANCHORS)
def test_pytorch_export_matches_onnxruntime_at_two_batch_sizes(name, tmp_path):
    path = tmp_path / f"{name}.onnx"
    model, data = export(name, path)
    loaded = ember.onnx.load(path)
    for batch in (1, 3):
        x = data(batch)
        expected = run_ort(path.read_bytes(), {"x": x})[0]
        got = loaded(ember.from_numpy(x)).detach().numpy()
        assert got.shape == expected.shape == (batch, 10 if name not in ("lstm", "gru") else 2)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        with torch.no_grad():
            np.testing.assert_allclose(got, model(torch.from_numpy(x)).numpy(), rtol=1e-4,
                                       atol=1e-5)


@pytest.mark.parametrize("opset", [11, 14, 17])
@pytest.mark.parametrize("name", ["mnist-net", "lstm", "gru"])
def test_pytorch_export_at_older_opsets_matches_onnxruntime(name, opset, tmp_path):
    """Older opsets take axes as attributes (Squeeze, Unsqueeze) and other operator versions."""
    path = tmp_path / f"{name}.onnx"
    _, data = export(name, path, opset_version=opset)
    x = data(3)
    got = ember.onnx.load(path)(ember.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, run_ort(path.read_bytes(), {"x": x})[0], rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "mnist-net"])
def test_static_batch_file_refuses_other_batch_sizes(name, tmp_path):
    path = tmp_path / f"{name}.onnx"
    _, data = export(name, path, dynamic=False)
    loaded = ember.onnx.load(path)
    np.testing.assert_allclose(loaded(ember.from_numpy(data(2))).detach().numpy(),
                               run_ort(path.read_bytes(), {"x": data(2)})[0], rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match=r"input 'x' must have shape \(2, "):
        loaded(ember.from_numpy(data(3)))


@pytest.mark.parametrize("name", ["mlp", "keras-cnn", "lstm"])
def test_loaded_weights_get_pytorchs_gradients(name, tmp_path):
    """The initializers are Parameters and the gradients of a loss reach all of them, equal
    to PyTorch's for the same weights (the LSTM's through the reordered gates)."""
    path = tmp_path / f"{name}.onnx"
    model, data = export(name, path)
    loaded = ember.onnx.load(path)
    params = dict(loaded.named_parameters())
    assert params and all(p.requires_grad for p in params.values())
    x = data(3)
    out = loaded(ember.from_numpy(x))
    (out * out).sum().backward()
    reference = model(torch.from_numpy(x))
    (reference * reference).sum().backward()
    ours = sorted(float(np.abs(p.grad.numpy()).sum()) for p in params.values())
    theirs = sorted(float(p.grad.abs().sum()) for p in model.parameters())
    assert all(g > 0 for g in ours)
    if name == "lstm":  # the exporter merges and reorders the LSTM's weights and biases
        np.testing.assert_allclose(sum(ours), sum(theirs), rtol=1e-4)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-4)


def test_fine_tuning_a_loaded_model_follows_pytorchs_training(tmp_path):
    """Ten SGD steps on the loaded MLP give PyTorch's losses for the same steps on the model
    that was exported, and the loss falls."""
    path = tmp_path / "mlp.onnx"
    model, _ = export("mlp", path)
    loaded = ember.onnx.load(path)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 784)).astype(np.float32), rng.integers(0, 10, 64)
    runs = {}
    for name, lib, net, (xs, ys) in (
            ("ember", ember, loaded, (ember.from_numpy(x), ember.from_numpy(y))),
            ("torch", torch, model, (torch.from_numpy(x), torch.from_numpy(y)))):
        opt = lib.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        runs[name] = []
        for _ in range(10):
            loss = lib.nn.functional.cross_entropy(net(xs), ys)
            opt.zero_grad()
            loss.backward()
            opt.step()
            runs[name].append(loss.item())
    np.testing.assert_allclose(runs["ember"], runs["torch"], rtol=1e-4)
    assert runs["ember"][-1] < 0.8 * runs["ember"][0]
