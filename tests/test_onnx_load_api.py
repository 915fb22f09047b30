"""ember.onnx.load as a user meets it: paths, file objects and bytes; the module it returns
(parameters, buffers, state_dict, dtype conversion, repr); ember without onnx installed."""
import io
import sys

import numpy as np
import pytest

from onnx_load_helpers import graph_model, helper, onnx, run_ort

import ember

rng = np.random.default_rng(5)


def conv_bn_model():
    nodes = [helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias",
                                                     "bn.running_mean", "bn.running_var"], ["b"]),
             helper.make_node("Relu", ["b"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["p"]),
             helper.make_node("Flatten", ["p"], ["y"])]
    init = {"conv.weight": rng.standard_normal((4, 2, 3, 3)).astype(np.float32),
            "conv.bias": rng.standard_normal(4).astype(np.float32),
            "bn.weight": rng.standard_normal(4).astype(np.float32),
            "bn.bias": rng.standard_normal(4).astype(np.float32),
            "bn.running_mean": rng.standard_normal(4).astype(np.float32),
            "bn.running_var": rng.uniform(0.5, 2, 4).astype(np.float32)}
    return graph_model(nodes, {"x": np.zeros((1, 2, 5, 5), np.float32)}, ["y"], init,
                       dynamic=True)


def test_path_file_object_bytes_and_model_proto_give_the_same_module(tmp_path):
    data = conv_bn_model()
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    x = rng.standard_normal((3, 2, 5, 5)).astype(np.float32)
    expected = run_ort(data, {"x": x})[0]
    with open(path, "rb") as f:
        sources = [path, str(path), f, io.BytesIO(data), data, bytearray(data),
                   onnx.load_model_from_string(data)]
        for source in sources:
            out = ember.onnx.load(source)(ember.from_numpy(x)).detach()
            np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_weights_are_parameters_and_statistics_buffers():
    model = ember.onnx.load(conv_bn_model())
    assert isinstance(model, ember.nn.Module)
    assert sorted(n for n, _ in model.named_parameters()) == [
        "bn_bias", "bn_weight", "conv_bias", "conv_weight"]
    assert sorted(n for n, _ in model.named_buffers()) == ["bn_running_mean", "bn_running_var"]
    assert model.value_names["conv.weight"] == "conv_weight"
    assert model.input_names == ["x"] and model.output_names == ["y"]
    assert "nodes=5" in repr(model)


def test_state_dict_round_trip_and_double():
    model = ember.onnx.load(conv_bn_model())
    x = ember.from_numpy(rng.standard_normal((2, 2, 5, 5)).astype(np.float32))
    before = model(x).detach().numpy()
    other = ember.onnx.load(conv_bn_model())  # new random weights
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other(x).detach().numpy(), before)
    model.double()
    out = model(x.double()).detach()
    assert out.dtype == ember.float64
    np.testing.assert_allclose(out.numpy(), before, rtol=1e-5, atol=1e-6)


def test_eval_and_train_modes_run_the_same_inference_graph():
    """The graph is an inference graph (Dropout off, BatchNormalization on its statistics);
    train() only lets its weights be trained."""
    model = ember.onnx.load(conv_bn_model())
    x = ember.from_numpy(rng.standard_normal((2, 2, 5, 5)).astype(np.float32))
    np.testing.assert_array_equal(model.train()(x).detach().numpy(),
                                  model.eval()(x).detach().numpy())


def test_ember_imports_without_onnx_and_load_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` now fails
    import ember.onnx
    with pytest.raises(ImportError, match=r'ember.onnx.load needs onnx: pip install '
                                          r'"ember\[onnx\]"'):
        ember.onnx.load(b"")


def test_one_and_two_threads_agree(restore_threads):
    model = ember.onnx.load(conv_bn_model())
    x = ember.from_numpy(rng.standard_normal((4, 2, 5, 5)).astype(np.float32))
    outs = []
    for threads in (1, 2):
        ember.set_num_threads(threads)
        outs.append(model(x).detach().numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-6, atol=1e-6)
