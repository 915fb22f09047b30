"""ember.onnx.export's arguments (torch.onnx.export's), files, modes and errors."""
import io
import os
import subprocess
import sys

import numpy as np
import pytest

import ember
import ember.nn as nn
from onnx_export_checks import check_export, onnx, op_types, run_onnx

RNG = np.random.default_rng(1)


def randn(*shape):
    return ember.tensor(RNG.standard_normal(shape).astype(np.float32))


def mlp():
    return nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 3))


def test_path_writes_the_weights_beside_the_file_by_default(tmp_path):
    model, x = mlp(), randn(2, 20)
    ember.onnx.export(model, (x,), tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx.data").is_file()  # PyTorch's external_data=True default
    assert sorted(os.listdir(tmp_path)) == ["m.onnx", "m.onnx.data"]  # no temporary files left
    got = run_onnx(tmp_path / "m.onnx", {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_external_data_false_writes_one_file(tmp_path):
    ember.onnx.export(mlp(), randn(2, 20), str(tmp_path / "m.onnx"), external_data=False)
    assert os.listdir(tmp_path) == ["m.onnx"]
    onnx.checker.check_model(str(tmp_path / "m.onnx"), full_check=True)


def test_binary_file_object(tmp_path):
    model, x = mlp(), randn(2, 20)
    buffer = io.BytesIO()
    ember.onnx.export(model, (x,), buffer)
    proto = onnx.load_from_string(buffer.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    import onnxruntime as ort
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_names_default_to_the_forward_arguments_and_output(tmp_path):
    class Two(nn.Module):
        def forward(self, left, right):
            return left + right, left * right

    ember.onnx.export(Two(), (randn(2, 3), randn(2, 3)), tmp_path / "m.onnx")
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert [i.name for i in graph.input] == ["left", "right"]
    assert [o.name for o in graph.output] == ["output_0", "output_1"]


def test_given_names_and_dynamic_axes_in_both_forms(tmp_path):
    model, x = mlp(), randn(2, 20)
    ember.onnx.export(model, (x,), tmp_path / "m.onnx", input_names=["pixels"],
                      output_names=["logits"], dynamic_axes={"pixels": [0], "logits": {0: "n"}})
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert graph.input[0].name == "pixels" and graph.output[0].name == "logits"
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "pixels_dynamic_axes_1"
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param == "n"
    x5 = randn(5, 20)
    got = run_onnx(tmp_path / "m.onnx", {"pixels": x5.numpy()})[0]
    np.testing.assert_allclose(got, model(x5).detach().numpy(), rtol=1e-5, atol=1e-5)


def test_without_dynamic_axes_the_sizes_are_fixed(tmp_path):
    ember.onnx.export(mlp(), randn(2, 20), tmp_path / "m.onnx")
    dims = onnx.load(str(tmp_path / "m.onnx")).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 20]


def test_dynamic_output_dims_take_the_input_dim_name(tmp_path):
    ember.onnx.export(mlp(), randn(2, 20), tmp_path / "m.onnx", input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    out = onnx.load(str(tmp_path / "m.onnx")).graph.output[0]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["batch", 3]


@pytest.mark.parametrize("opset", [13, 17, 18, 20, 21, 23])
def test_opset_versions(opset, tmp_path):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3)
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            h = self.conv(x).relu().mean(dim=(2, 3))
            return self.fc(h).softmax(-1)

    path = check_export(Model(), randn(2, 2, 6, 6), tmp_path, opset_version=opset)
    assert onnx.load(str(path)).opset_import[0].version == opset


def test_layernorm_needs_opset_17(tmp_path):
    with pytest.raises(NotImplementedError, match=r"LayerNorm.*opset_version >= 17"):
        ember.onnx.export(nn.LayerNorm(4), randn(2, 4), tmp_path / "m.onnx", opset_version=16)


def test_bad_arguments(tmp_path):
    model, x = mlp(), randn(2, 20)
    with pytest.raises(ValueError, match="opset_version"):
        ember.onnx.export(model, x, tmp_path / "m.onnx", opset_version=5)
    with pytest.raises(NotImplementedError, match="f=None"):
        ember.onnx.export(model, x)
    with pytest.raises(NotImplementedError, match="dynamic_shapes"):
        ember.onnx.export(model, x, tmp_path / "m.onnx", dynamic_shapes={"x": {0: "b"}})
    with pytest.raises(NotImplementedError, match="do_constant_folding"):
        ember.onnx.export(model, x, tmp_path / "m.onnx", do_constant_folding=False)
    with pytest.raises(ValueError, match="neither in input_names"):
        ember.onnx.export(model, x, tmp_path / "m.onnx", dynamic_axes={"nope": [0]})
    with pytest.raises(ValueError, match="out of range"):
        ember.onnx.export(model, x, tmp_path / "m.onnx", dynamic_axes={"input": [2]})
    with pytest.raises(ValueError, match="input_names"):
        ember.onnx.export(model, x, tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(TypeError):
        ember.onnx.export(model, x, tmp_path / "m.onnx", no_such_argument=1)
    with pytest.raises(TypeError, match="path or a binary file"):
        ember.onnx.export(model, x, 42)
    assert os.listdir(tmp_path) == []


def test_training_mode_is_restored_and_the_export_runs_in_eval_mode(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.9), nn.BatchNorm1d(4))
    model.train()
    model[2].eval()  # a submodule in its own mode stays so
    x = randn(8, 4)
    ember.onnx.export(model, x, tmp_path / "m.onnx")
    assert model.training and model[0].training and model[1].training
    assert not model[2].training
    model.eval()
    got = run_onnx(tmp_path / "m.onnx", {"input": x.numpy()})[0]
    np.testing.assert_allclose(got, model(x).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert "Dropout" not in op_types(tmp_path / "m.onnx")


def test_kwargs_and_trailing_dict_are_keyword_inputs(tmp_path):
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x, scale=None, shift=0.5):
            return self.fc(x) * scale + shift

    x, scale = randn(2, 3), randn(2, 3)
    for args, kwargs in (((x,), {"scale": scale}), ((x, {"scale": scale}), None)):
        ember.onnx.export(Scaled(), args, tmp_path / "m.onnx", kwargs=kwargs)
        graph = onnx.load(str(tmp_path / "m.onnx")).graph
        assert [i.name for i in graph.input] == ["x", "scale"]


def test_tied_weights(tmp_path):
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 16)

        def forward(self, idx):
            return ember.matmul(self.emb(idx), self.emb.weight.t())

    idx = ember.tensor(np.array([[1, 2], [3, 4]], dtype=np.int64))
    path = check_export(Tied(), idx, tmp_path, others=(ember.tensor(
        np.array([[5, 6], [7, 8], [9, 0]], dtype=np.int64)),))
    assert "emb.weight" in [t.name for t in onnx.load(str(path)).graph.initializer]


def test_keep_initializers_as_inputs(tmp_path):
    ember.onnx.export(mlp(), randn(2, 20), tmp_path / "m.onnx", keep_initializers_as_inputs=True)
    graph = onnx.load(str(tmp_path / "m.onnx")).graph
    assert {i.name for i in graph.input} >= {"input", "0.weight", "2.bias"}


def test_ember_imports_and_export_explains_without_onnx(monkeypatch, tmp_path):
    code = "import sys, ember, ember.onnx; assert 'onnx' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ})
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "ember\[onnx\]"'):
        ember.onnx.export(mlp(), randn(2, 20), tmp_path / "m.onnx")


def test_model_must_be_a_module_and_verbose_prints_the_graph(tmp_path, capsys):
    with pytest.raises(TypeError, match="ember.nn.Module"):
        ember.onnx.export(lambda x: x * 2, randn(2, 3), tmp_path / "m.onnx")
    ember.onnx.export(mlp(), randn(2, 20), tmp_path / "m.onnx", verbose=True)
    assert "Gemm" in capsys.readouterr().out


def test_a_failed_export_leaves_ember_as_it_was(tmp_path):
    from ember.autograd import Function
    from ember.ops import rnn
    apply, rnn_layer = Function.__dict__["apply"], rnn.rnn_layer
    model = nn.Sequential(nn.Linear(3, 3))
    model.register_forward_hook(lambda module, args, out: ember.cumsum(out, 1))  # no mapping
    with pytest.raises(NotImplementedError, match="CumSum"):
        ember.onnx.export(model, randn(2, 3), tmp_path / "m.onnx")
    assert Function.__dict__["apply"] is apply and rnn.rnn_layer is rnn_layer
    assert "forward" not in vars(model) and "forward" not in vars(model[0])
    lstm = nn.LSTM(3, 2)
    lstm(randn(4, 1, 3))[0].sum().backward()  # ember still trains
    assert lstm.weight_ih_l0.grad is not None
