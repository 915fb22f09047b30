"""Helpers of the ember.onnx.load tests: small ONNX graphs built with onnx.helper, onnxruntime
as the reference, and PyTorch's exporter (the TorchScript one: the dynamo exporter needs
onnxscript, which is not installed). Tests skip when onnx or onnxruntime is absent."""
import warnings

import numpy as np
import pytest

import ember

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

ELEM = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
        np.dtype(np.int64): TensorProto.INT64, np.dtype(np.int32): TensorProto.INT32,
        np.dtype(np.bool_): TensorProto.BOOL}


def graph_model(nodes, inputs, outputs, initializers=None, opset=17, dynamic=False):
    """ModelProto bytes. inputs: {name: example array} (graph inputs, in order); outputs: names;
    initializers: {name: array}; dynamic: graph inputs with unnamed-size dimensions."""
    def info(name, a):
        shape = [None] * a.ndim if dynamic else list(a.shape)
        return helper.make_tensor_value_info(name, ELEM[a.dtype], shape)
    graph = helper.make_graph(
        nodes, "g", [info(n, a) for n, a in inputs.items()],
        [helper.make_empty_tensor_value_info(n) for n in outputs],
        initializer=[numpy_helper.from_array(a, n) for n, a in (initializers or {}).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8 if opset <= 17 else 10  # what onnxruntime reads for these opsets
    return model.SerializeToString()


def run_ort(model, inputs: dict):
    """onnxruntime's outputs for `model` (bytes, or a path when it has external data)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


def run_ember(model_bytes, inputs: dict):
    model = ember.onnx.load(model_bytes)
    out = model(*[ember.from_numpy(np.array(a)) for a in inputs.values()])
    return [o.detach().numpy() for o in (out if isinstance(out, tuple) else (out,))]


def assert_matches_ort(model_bytes, inputs: dict, tol=1e-5):
    expected = run_ort(model_bytes, inputs)
    got = run_ember(model_bytes, inputs)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, e.shape, g.dtype, e.dtype)
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)


def torch_export(model, args, path, **kwargs):
    """PyTorch 2.13's TorchScript exporter (dynamo=False), its deprecation warning silenced."""
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, str(path), dynamo=False, **kwargs)
    return path


def recurrent_classifier(nn, cell, vocab: int, width: int, classes: int):
    """Embedding, two batch-first recurrent layers and a linear head on the last step, written
    with `nn` (torch.nn or ember.nn): the anchor LSTM and GRU classifiers."""
    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, width)
            self.rnn = cell(width, width, num_layers=2, batch_first=True)
            self.fc = nn.Linear(width, classes)

        def forward(self, tokens):
            out, _ = self.rnn(self.embedding(tokens))
            return self.fc(out[:, -1])
    return Recurrent()
