"""ember.onnx.export of whole models (torch face): the anchor models and the examples' models
run in onnxruntime with ember's outputs, at the traced and at another batch size."""
import importlib.util
from pathlib import Path

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from onnx_export_checks import check_export, op_types

RNG = np.random.default_rng(3)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name):
    spec = importlib.util.spec_from_file_location(f"_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def randn(*shape):
    return ember.tensor(RNG.standard_normal(shape).astype(np.float32))


def test_mlp_784_128_128_10(tmp_path):
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    path = check_export(model, randn(4, 1, 28, 28), tmp_path)
    assert op_types(path) <= {"Reshape", "Gemm", "Relu"}


def test_pytorch_examples_mnist_net(tmp_path):
    model = _example("mnist_torchvision").Net()  # pytorch/examples' MNIST Net
    model.train()
    check_export(model, randn(2, 1, 28, 28), tmp_path)
    assert model.training


class KerasStyleCnn(nn.Module):
    """The Keras CNN Conv32-Pool-Conv64-Pool-Dense10 written in the torch face."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2))
        self.fc = nn.Linear(64 * 5 * 5, 10)

    def forward(self, x):
        return F.softmax(self.fc(self.features(x).view(-1, 64 * 5 * 5)), dim=1)


def test_keras_cnn_in_the_torch_face(tmp_path):
    check_export(KerasStyleCnn(), randn(3, 1, 28, 28), tmp_path)


def test_lstm_classifier(tmp_path):
    model = _example("text_classifier").SentenceClassifier(30)  # embedding, 2 LSTMs, linear
    tokens = ember.tensor(RNG.integers(0, 30, (3, 7)).astype(np.int64))
    others = (ember.tensor(RNG.integers(0, 30, (5, 7)).astype(np.int64)),)
    path = check_export(model, tokens, tmp_path, others=others)
    assert {"Gather", "LSTM", "Gemm"} <= op_types(path)


class GruRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, 8, bidirectional=True)
        self.fc = nn.Linear(16, 1)

    def forward(self, x):
        out, h = self.gru(x)
        return self.fc(out.mean(dim=0)), h


def test_gru_model(tmp_path):
    check_export(GruRegressor(), randn(6, 2, 3), tmp_path, batch_axes=[1])


def test_char_gpt_model(tmp_path):
    gpt = _example("char_gpt").GPT(vocab_size=20, block_size=8, d_model=16, n_head=2, n_layer=2,
                                   dropout=0.1)
    tokens = ember.tensor(RNG.integers(0, 20, (2, 8)).astype(np.int64))
    others = (ember.tensor(RNG.integers(0, 20, (3, 8)).astype(np.int64)),)
    path = check_export(gpt, tokens, tmp_path, others=others)
    assert {"LayerNormalization", "MatMul", "Softmax", "Gather"} <= op_types(path)
