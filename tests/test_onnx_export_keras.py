"""The Keras face's model.export(path, format="onnx"): for each layer type the file passes
onnx.checker(full_check), keeps Keras' (channels_last) layout at its inputs and outputs, runs
at any batch size (axis 0 is "batch"), and onnxruntime gives ember's predictions (1e-5)."""
import numpy as np
import pytest

from ember import keras as ek
from ember.keras import layers as L
from onnx_export_checks import onnx, op_types, other_batch, run_onnx

RNG = np.random.default_rng(4)


def floats(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def export_and_compare(model, x, tmp_path, x_other=None, name="m.onnx", **kwargs):
    """Exports model, checks the file, and compares onnxruntime with model.predict on x and on
    a batch of another size."""
    path = tmp_path / name
    model.export(str(path), format="onnx", verbose=False, **kwargs)
    onnx.checker.check_model(str(path), full_check=True)
    graph = onnx.load(str(path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    xs = x if isinstance(x, list) else [x]
    others = x_other if x_other is not None else [other_batch(a) for a in xs]
    others = others if isinstance(others, list) else [others]
    for inputs in (xs, others):
        expected = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        expected = expected if isinstance(expected, list) else [expected]
        feeds = {i.name: a for i, a in zip(graph.input, inputs)}
        got = run_onnx(path, feeds)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)
    return path


def sequential(*layers, shape):
    return ek.Sequential([L.Input(shape=shape), *layers])


LAYERS = [
    ("dense", lambda: [L.Dense(5, activation="relu"), L.Dense(3)], (6,), {"Gemm"}),
    ("dense_3d", lambda: [L.Dense(4, activation="tanh")], (5, 6), {"MatMul"}),
    ("conv1d", lambda: [L.Conv1D(4, 3, strides=2, padding="same", activation="relu")],
     (9, 3), {"Conv", "Transpose"}),
    ("conv2d_valid", lambda: [L.Conv2D(4, (3, 2), activation="sigmoid")], (7, 6, 2),
     {"Conv", "Transpose"}),
    ("conv2d_same_strides", lambda: [L.Conv2D(3, 3, strides=2, padding="same")], (8, 7, 2),
     {"Conv"}),
    ("conv2d_dilation", lambda: [L.Conv2D(3, 3, dilation_rate=2, use_bias=False)], (9, 9, 2),
     {"Conv"}),
    ("maxpooling2d", lambda: [L.MaxPooling2D((2, 2))], (6, 8, 3), {"MaxPool"}),
    ("maxpooling2d_same", lambda: [L.MaxPooling2D(3, strides=2, padding="same")], (7, 8, 2),
     {"MaxPool"}),
    ("averagepooling2d", lambda: [L.AveragePooling2D(2)], (6, 8, 3), {"AveragePool"}),
    ("maxpooling1d", lambda: [L.MaxPooling1D(2)], (8, 3), {"MaxPool"}),
    ("global_average_pooling2d", lambda: [L.GlobalAveragePooling2D()], (5, 4, 3), set()),
    ("global_max_pooling1d", lambda: [L.GlobalMaxPooling1D()], (5, 3), set()),
    ("layer_normalization", lambda: [L.LayerNormalization()], (5, 6), {"LayerNormalization"}),
    ("dropout_flatten", lambda: [L.Dropout(0.5), L.Flatten(), L.Dense(2)], (3, 4),
     {"Reshape", "Gemm"}),
    ("reshape", lambda: [L.Reshape((4, 3))], (12,), {"Reshape"}),
    ("permute", lambda: [L.Permute((2, 1))], (3, 4), {"Transpose"}),
    ("activations", lambda: [L.Dense(4, activation="gelu"), L.Activation("softmax"),
                             L.Dense(4, activation="elu"), L.Activation("swish"),
                             L.LeakyReLU(0.3), L.ReLU(), L.Dense(3, activation="selu"),
                             L.Activation("log_softmax")], (6,), {"Softmax", "LogSoftmax"}),
    ("lstm", lambda: [L.LSTM(5)], (4, 3), {"LSTM"}),
    ("lstm_sequences_backwards", lambda: [L.LSTM(5, return_sequences=True, go_backwards=True)],
     (4, 3), {"LSTM"}),
    ("gru", lambda: [L.GRU(5, return_sequences=True)], (4, 3), {"GRU"}),
    ("simple_rnn", lambda: [L.SimpleRNN(5)], (4, 3), {"RNN"}),
    ("bidirectional_lstm", lambda: [L.Bidirectional(L.LSTM(4, return_sequences=True))],
     (5, 3), {"LSTM"}),
    ("conv2d_transpose", lambda: [L.Conv2DTranspose(3, 3, strides=2, padding="same")],
     (4, 5, 2), {"ConvTranspose"}),
    ("zero_padding2d", lambda: [L.ZeroPadding2D(((1, 0), (2, 1)))], (3, 4, 2), {"Pad"}),
    ("up_sampling2d", lambda: [L.UpSampling2D(2)], (3, 4, 2), set()),
    ("cropping2d", lambda: [L.Cropping2D(((1, 0), (0, 1)))], (4, 5, 2), {"Slice"}),
    ("depthwise_conv2d", lambda: [L.DepthwiseConv2D(3)], (5, 5, 2), {"Conv"}),
    ("separable_conv2d", lambda: [L.SeparableConv2D(4, 3)], (5, 5, 2), {"Conv"}),
    ("repeat_vector", lambda: [L.RepeatVector(3)], (4,), set()),
    ("prelu", lambda: [L.PReLU()], (4, 3), set()),
    ("time_distributed", lambda: [L.TimeDistributed(L.Dense(3))], (4, 3), set()),
    ("group_normalization", lambda: [L.GroupNormalization(groups=3)], (4, 6), set()),
    ("unit_normalization", lambda: [L.UnitNormalization()], (6,), set()),
    ("conv1d_transpose", lambda: [L.Conv1DTranspose(2, 3, strides=2)], (5, 3),
     {"ConvTranspose"}),
    ("up_sampling1d_zero_padding1d_cropping1d",
     lambda: [L.UpSampling1D(2), L.ZeroPadding1D(2), L.Cropping1D((1, 2))], (5, 3), {"Pad"}),
    ("spatial_dropout_gaussian_noise", lambda: [L.SpatialDropout1D(0.3), L.GaussianNoise(0.3)],
     (5, 3), set()),
    ("stacked_rnn_cells", lambda: [L.RNN([L.LSTMCell(3), L.GRUCell(2)], return_sequences=True)],
     (4, 3), {"LSTM", "GRU"}),
    ("depthwise_conv1d", lambda: [L.DepthwiseConv1D(3)], (6, 2), {"Conv"}),
]


@pytest.mark.parametrize("make, shape, ops", [case[1:] for case in LAYERS],
                         ids=[case[0] for case in LAYERS])
def test_layer_runs_in_onnxruntime_as_in_ember(make, shape, ops, tmp_path):
    model = sequential(*make(), shape=shape)
    path = export_and_compare(model, floats(2, *shape), tmp_path)
    assert ops <= op_types(path)


def test_embedding_and_integer_input(tmp_path):
    model = sequential(L.Embedding(12, 4), L.LSTM(3), L.Dense(2), shape=(5,))
    x = RNG.integers(0, 12, (2, 5)).astype(np.float32)
    path = export_and_compare(model, x, tmp_path,
                              x_other=RNG.integers(0, 12, (3, 5)).astype(np.float32))
    assert {"Gather", "LSTM"} <= op_types(path)


def test_keras_cnn_conv32_pool_conv64_pool_dense10(tmp_path):
    model = sequential(L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                       L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                       L.Flatten(), L.Dense(10, activation="softmax"), shape=(28, 28, 1))
    path = export_and_compare(model, floats(2, 28, 28, 1), tmp_path)
    graph = onnx.load(str(path)).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 28, 28, 1]  # Keras' layout at the input
    # the NHWC <-> NCHW transposes between the convolution and the pooling cancel out
    assert sum(n.op_type == "Transpose" for n in graph.node) <= 3


def test_functional_model_with_concatenate_and_add(tmp_path):
    a, b = L.Input(shape=(6,), name="left"), L.Input(shape=(6,), name="right")
    h = L.Concatenate()([L.Dense(4, activation="relu")(a), L.Dense(4)(b)])
    out = L.Add()([L.Dense(3)(h), L.Dense(3)(L.Dense(8, activation="tanh")(h))])
    model = ek.Model([a, b], out)
    path = export_and_compare(model, [floats(2, 6), floats(2, 6)], tmp_path)
    assert [i.name for i in onnx.load(str(path)).graph.input] == ["left", "right"]


def test_opset_version_and_unknown_arguments(tmp_path):
    model = sequential(L.Dense(2), shape=(3,))
    model.export(str(tmp_path / "m.onnx"), format="onnx", verbose=False, opset_version=18)
    assert onnx.load(str(tmp_path / "m.onnx")).opset_import[0].version == 18
    with pytest.raises(TypeError, match="unexpected keyword"):
        model.export(str(tmp_path / "m.onnx"), format="onnx", no_such_option=1)


def test_other_formats(tmp_path):
    model = sequential(L.Dense(2), shape=(3,))
    with pytest.raises(ValueError, match="Unrecognized format"):
        model.export(str(tmp_path / "m"), format="pickle")
    with pytest.raises(NotImplementedError, match="tf_saved_model"):
        model.export(str(tmp_path / "m"))


def test_export_prints_where_it_saved(tmp_path, capsys):
    model = sequential(L.Dense(64), shape=(32,))
    model.export(str(tmp_path / "m.onnx"), format="onnx")
    assert f"Saved artifact at '{tmp_path / 'm.onnx'}'." in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # one file, weights inside


def test_training_mode_survives(tmp_path):
    model = sequential(L.Dense(4), L.Dropout(0.5), L.Dense(2), shape=(3,))
    model.train()
    export_and_compare(model, floats(2, 3), tmp_path)
    assert model.training


def test_unbuilt_model_is_refused(tmp_path):
    model = ek.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="built"):
        model.export(str(tmp_path / "m.onnx"), format="onnx")


@pytest.mark.parametrize("shape", [(4, 4, 3), (5, 3), (3,)])
def test_batch_normalization_with_moving_statistics(shape, tmp_path):
    bn = L.BatchNormalization()
    model = sequential(bn, shape=shape)
    n = shape[-1]
    bn.set_weights([RNG.uniform(0.5, 1.5, n).astype(np.float32),   # gamma
                    RNG.standard_normal(n).astype(np.float32),      # beta
                    RNG.standard_normal(n).astype(np.float32),      # moving mean
                    RNG.uniform(0.5, 2, n).astype(np.float32)])     # moving variance
    path = export_and_compare(model, floats(2, *shape), tmp_path)
    assert "BatchNormalization" in op_types(path)


def test_multitask_example_model_with_two_named_outputs(tmp_path):
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parent.parent / "examples" / "multitask_keras.py"
    spec = importlib.util.spec_from_file_location("_example_multitask_keras", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model = example.build_model(units=16)
    x = floats(3, 64)
    model.export(str(tmp_path / "m.onnx"), format="onnx", verbose=False)
    onnx.checker.check_model(str(tmp_path / "m.onnx"), full_check=True)
    expected = model.predict(x, verbose=0)
    got = run_onnx(tmp_path / "m.onnx", {"pixels": x})
    for g, e in zip(got, (expected["digit"], expected["even"])):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


def test_multi_head_attention_layer(tmp_path):
    query, value = L.Input(shape=(4, 3), name="query"), L.Input(shape=(5, 3), name="value")
    model = ek.Model([query, value], L.MultiHeadAttention(num_heads=2, key_dim=4)(query, value))
    path = export_and_compare(model, [floats(2, 4, 3), floats(2, 5, 3)], tmp_path)
    assert {"MatMul", "Softmax"} <= op_types(path)


def test_subclassed_model_after_its_first_call(tmp_path):
    class TwoDense(ek.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = L.Dense(4, activation="relu"), L.Dense(2)

        def call(self, x):
            return self.out(self.hidden(x))

    model = TwoDense()
    with pytest.raises(ValueError, match="not yet been built"):
        model.export(str(tmp_path / "m.onnx"), format="onnx", verbose=False)
    x = floats(3, 5)
    model(x)
    export_and_compare(model, x, tmp_path)
