"""ember.onnx.load, one hand-built graph per operator (onnx.helper): outputs equal
onnxruntime's (1e-5), and gradients of every float input (weights included, given as graph
inputs) pass a float64 finite-difference check through the loaded module."""
import numpy as np
import pytest

from onnx_load_helpers import assert_matches_ort, graph_model, helper, run_ember, run_ort

import ember
from ember.testing import gradcheck

rng = np.random.default_rng(13)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def i64(*values):
    return np.array(values, dtype=np.int64)


def case(op, inputs, init=None, opset=17, outputs=1, order=None, keep=(), **attrs):
    """One node: graph inputs `inputs`, initializers `init` ({name: array}); `order` lists the
    node's input names when it differs from inputs-then-initializers ('' = absent); `keep`
    names initializers the gradient check leaves as they are (inputs ONNX does not
    differentiate: statistics, bounds, ratios)."""
    return dict(op=op, inputs=inputs, init=init or {}, opset=opset, outputs=outputs,
                order=order, keep=keep, attrs=attrs)


def build(c, weights_as_inputs=False):
    names = c["order"] or [*c["inputs"], *c["init"]]
    outs = [f"y{i}" for i in range(c["outputs"])]
    node = helper.make_node(c["op"], names, outs, **c["attrs"])
    inputs, init = dict(c["inputs"]), dict(c["init"])
    if weights_as_inputs:  # float initializers become graph inputs, so gradcheck sees them
        for name in [n for n, a in init.items() if a.dtype.kind == "f" and n not in c["keep"]]:
            inputs[name] = init.pop(name)
    return graph_model([node], inputs, outs, init, c["opset"]), inputs


X4 = f32(2, 4, 7, 6)
LSTM_W = {"W": f32(1, 16, 5) * 0.5, "R": f32(1, 16, 4) * 0.5, "B": f32(1, 32) * 0.5}
LSTM_W2 = {"W": f32(2, 16, 5) * 0.5, "R": f32(2, 16, 4) * 0.5, "B": f32(2, 32) * 0.5}
GRU_W = {"W": f32(2, 12, 5) * 0.5, "R": f32(2, 12, 4) * 0.5, "B": f32(2, 24) * 0.5}
RNN_W = {"W": f32(2, 4, 5) * 0.5, "R": f32(2, 4, 4) * 0.5, "B": f32(2, 8) * 0.5}
SEQ = f32(6, 3, 5)

CASES = {
    # arithmetic and products
    "Add-broadcast": case("Add", {"a": f32(2, 3, 4), "b": f32(4)}),
    "Sub": case("Sub", {"a": f32(2, 3), "b": f32(2, 1)}),
    "Mul-init": case("Mul", {"a": f32(3, 4)}, {"b": f32(1, 4)}),
    "Div": case("Div", {"a": f32(3, 4), "b": np.abs(f32(3, 4)) + 0.5}),
    "Pow": case("Pow", {"a": np.abs(f32(3, 4)) + 0.5, "b": f32(3, 4)}),
    "Pow-scalar": case("Pow", {"a": f32(3, 4)}, {"b": np.array(2.0, np.float32)}, keep=("b",)),
    "Sqrt": case("Sqrt", {"a": np.abs(f32(3, 4)) + 0.1}),
    "Erf": case("Erf", {"a": f32(3, 4)}),
    "MatMul-batched": case("MatMul", {"a": f32(2, 3, 4), "b": f32(4, 5)}),
    "MatMul-vector": case("MatMul", {"a": f32(4), "b": f32(2, 4, 3)}),
    "Gemm": case("Gemm", {"a": f32(3, 4), "b": f32(4, 5), "c": f32(5)}),
    "Gemm-linear": case("Gemm", {"a": f32(3, 4)}, {"w": f32(5, 4), "c": f32(5)}, transB=1),
    "Gemm-general": case("Gemm", {"a": f32(4, 3), "b": f32(5, 4), "c": f32(3, 5)}, transA=1,
                         transB=1, alpha=0.5, beta=2.0),
    "Gemm-no-C": case("Gemm", {"a": f32(3, 4), "b": f32(4, 5)}),
    "ReduceMean-attr": case("ReduceMean", {"a": f32(2, 3, 4)}, opset=13, axes=[1, -1]),
    "ReduceMean-input": case("ReduceMean", {"a": f32(2, 3, 4)}, {"axes": i64(0)}, opset=18,
                             keepdims=0),
    "ReduceMean-all": case("ReduceMean", {"a": f32(2, 3, 4)}, opset=18),
    # activations
    "Relu": case("Relu", {"a": f32(3, 4)}),
    "LeakyRelu": case("LeakyRelu", {"a": f32(3, 4)}, alpha=0.2),
    "Elu": case("Elu", {"a": f32(3, 4)}, alpha=0.7),
    "Gelu": case("Gelu", {"a": f32(3, 4)}, opset=20),
    "Gelu-tanh": case("Gelu", {"a": f32(3, 4)}, opset=20, approximate="tanh"),
    "Sigmoid": case("Sigmoid", {"a": f32(3, 4)}),
    "Tanh": case("Tanh", {"a": f32(3, 4)}),
    "Softmax": case("Softmax", {"a": f32(2, 3, 4)}, opset=13, axis=1),
    "Softmax-opset11": case("Softmax", {"a": f32(2, 3, 4)}, opset=11, axis=1),
    "LogSoftmax": case("LogSoftmax", {"a": f32(2, 3, 4)}),
    "LogSoftmax-opset11": case("LogSoftmax", {"a": f32(2, 3, 4)}, opset=11),
    "Clip": case("Clip", {"a": f32(3, 4)}, {"lo": np.array(-0.5, np.float32),
                                            "hi": np.array(0.7, np.float32)}, keep=("lo", "hi")),
    # convolutions
    "Conv": case("Conv", {"x": X4}, {"w": f32(3, 4, 3, 2), "b": f32(3)}),
    "Conv-asymmetric-pads": case("Conv", {"x": X4}, {"w": f32(3, 4, 3, 3)}, pads=[1, 0, 0, 2]),
    "Conv-stride-dilation": case("Conv", {"x": X4}, {"w": f32(3, 4, 2, 2)}, strides=[2, 1],
                                 dilations=[2, 2], pads=[1, 1, 1, 1]),
    "Conv-groups": case("Conv", {"x": X4}, {"w": f32(6, 2, 3, 3), "b": f32(6)}, group=2),
    "Conv-same-upper": case("Conv", {"x": X4}, {"w": f32(3, 4, 4, 3)}, strides=[2, 2],
                            auto_pad="SAME_UPPER"),
    "Conv-same-lower": case("Conv", {"x": X4}, {"w": f32(3, 4, 4, 3)}, auto_pad="SAME_LOWER"),
    "Conv-valid": case("Conv", {"x": X4}, {"w": f32(3, 4, 3, 3)}, auto_pad="VALID"),
    "Conv-1d": case("Conv", {"x": f32(2, 3, 9)}, {"w": f32(4, 3, 3), "b": f32(4)},
                    pads=[1, 2], strides=[2]),
    "ConvTranspose": case("ConvTranspose", {"x": X4}, {"w": f32(4, 3, 3, 3), "b": f32(3)}),
    "ConvTranspose-stride": case("ConvTranspose", {"x": X4}, {"w": f32(4, 3, 3, 3)},
                                 strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
    "ConvTranspose-groups": case("ConvTranspose", {"x": X4}, {"w": f32(4, 1, 3, 2),
                                                              "b": f32(2)},
                                 group=2, dilations=[2, 1]),
    "ConvTranspose-asymmetric": case("ConvTranspose", {"x": X4}, {"w": f32(4, 3, 3, 3),
                                                                  "b": f32(3)},
                                     pads=[0, 1, 2, 0], strides=[2, 1]),
    "ConvTranspose-output-shape": case("ConvTranspose", {"x": X4}, {"w": f32(4, 3, 3, 3)},
                                       strides=[2, 2], output_shape=[14, 12]),
    "ConvTranspose-same-upper": case("ConvTranspose", {"x": X4}, {"w": f32(4, 3, 4, 3)},
                                     strides=[2, 2], auto_pad="SAME_UPPER"),
    "ConvTranspose-same-lower": case("ConvTranspose", {"x": X4}, {"w": f32(4, 3, 4, 3)},
                                     strides=[2, 2], auto_pad="SAME_LOWER"),
    "ConvTranspose-1d": case("ConvTranspose", {"x": f32(2, 3, 5)}, {"w": f32(3, 2, 3),
                                                                    "b": f32(2)}, strides=[3]),
    # pooling
    "MaxPool": case("MaxPool", {"x": X4}, kernel_shape=[2, 2], strides=[2, 2]),
    "MaxPool-pads": case("MaxPool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
    "MaxPool-asymmetric": case("MaxPool", {"x": X4}, kernel_shape=[3, 2], pads=[0, 1, 2, 0]),
    "MaxPool-asymmetric-small": case("MaxPool", {"x": X4}, kernel_shape=[3, 3], pads=[1, 0, 0, 1]),
    "MaxPool-ceil": case("MaxPool", {"x": X4}, kernel_shape=[2, 2], strides=[2, 2],
                         ceil_mode=1),
    "MaxPool-dilations": case("MaxPool", {"x": X4}, kernel_shape=[2, 2], dilations=[2, 2]),
    "MaxPool-same": case("MaxPool", {"x": X4}, kernel_shape=[3, 3], strides=[2, 2],
                         auto_pad="SAME_UPPER"),
    "MaxPool-1d": case("MaxPool", {"x": f32(2, 3, 9)}, kernel_shape=[3], strides=[2]),
    "AveragePool": case("AveragePool", {"x": X4}, kernel_shape=[2, 2], strides=[2, 2]),
    "AveragePool-pads-excluded": case("AveragePool", {"x": X4}, kernel_shape=[3, 3],
                                      pads=[1, 1, 1, 1]),
    "AveragePool-pads-included": case("AveragePool", {"x": X4}, kernel_shape=[3, 3],
                                      pads=[1, 1, 1, 1], count_include_pad=1),
    "AveragePool-asymmetric-excluded": case("AveragePool", {"x": X4}, kernel_shape=[3, 2],
                                            pads=[0, 1, 2, 0]),
    "AveragePool-asymmetric-included": case("AveragePool", {"x": X4}, kernel_shape=[3, 2],
                                            pads=[0, 1, 2, 0], count_include_pad=1),
    "AveragePool-asymmetric-small": case("AveragePool", {"x": X4}, kernel_shape=[3, 3],
                                         pads=[1, 0, 0, 1]),
    "AveragePool-ceil": case("AveragePool", {"x": X4}, kernel_shape=[2, 2], strides=[2, 2],
                             ceil_mode=1),
    "AveragePool-1d": case("AveragePool", {"x": f32(2, 3, 9)}, kernel_shape=[3], pads=[1, 1]),
    "GlobalAveragePool": case("GlobalAveragePool", {"x": X4}),
    "GlobalMaxPool": case("GlobalMaxPool", {"x": X4}),
    # normalizations
    "BatchNormalization": case("BatchNormalization", {"x": X4},
                               {"s": f32(4), "b": f32(4), "m": f32(4),
                                "v": np.abs(f32(4)) + 0.5}, opset=15, epsilon=1e-3,
                               keep=("m", "v")),
    "BatchNormalization-2d": case("BatchNormalization", {"x": f32(5, 4)},
                                  {"s": f32(4), "b": f32(4), "m": f32(4),
                                   "v": np.abs(f32(4)) + 0.5}, opset=9, keep=("m", "v")),
    "LayerNormalization": case("LayerNormalization", {"x": f32(2, 3, 4)},
                               {"s": f32(4), "b": f32(4)}),
    "LayerNormalization-broadcast": case("LayerNormalization", {"x": f32(2, 3, 4)},
                                         {"s": f32(4), "b": f32(1, 4)}, axis=1),
    "LayerNormalization-axis": case("LayerNormalization", {"x": f32(2, 3, 4)},
                                    {"s": f32(3, 4)}, axis=1, epsilon=1e-3),
    # recurrent layers
    "LSTM": case("LSTM", {"x": SEQ}, LSTM_W, outputs=3, hidden_size=4),
    "LSTM-reverse-states": case("LSTM", {"x": SEQ, "h": f32(1, 3, 4), "c": f32(1, 3, 4)},
                                LSTM_W, outputs=3, order=["x", "W", "R", "B", "", "h", "c"],
                                hidden_size=4, direction="reverse"),
    "LSTM-bidirectional": case("LSTM", {"x": SEQ}, LSTM_W2, outputs=3, hidden_size=4,
                               direction="bidirectional"),
    "LSTM-layout1": case("LSTM", {"x": f32(3, 6, 5), "h": f32(3, 2, 4)}, LSTM_W2, outputs=3,
                         order=["x", "W", "R", "B", "", "h"], opset=14, hidden_size=4,
                         direction="bidirectional", layout=1),
    "LSTM-sequence-lens": case("LSTM", {"x": SEQ, "lens": np.array([6, 2, 4], np.int32)}, LSTM_W2,
                               outputs=3, order=["x", "W", "R", "B", "lens"], hidden_size=4,
                               direction="bidirectional"),
    "LSTM-no-bias": case("LSTM", {"x": SEQ}, {k: LSTM_W[k] for k in "WR"}, outputs=2,
                         hidden_size=4),
    "GRU": case("GRU", {"x": SEQ}, GRU_W, outputs=2, hidden_size=4, direction="bidirectional",
                linear_before_reset=1),
    "GRU-reset-before": case("GRU", {"x": SEQ, "h": f32(2, 3, 4)}, GRU_W, outputs=2,
                             order=["x", "W", "R", "B", "", "h"], hidden_size=4,
                             direction="bidirectional"),
    "GRU-layout1": case("GRU", {"x": f32(3, 6, 5)}, GRU_W, outputs=2, opset=14, hidden_size=4,
                        direction="bidirectional", linear_before_reset=1, layout=1),
    "RNN": case("RNN", {"x": SEQ}, RNN_W, outputs=2, hidden_size=4, direction="bidirectional"),
    "RNN-relu": case("RNN", {"x": SEQ}, {k: v[:1] for k, v in RNN_W.items()}, outputs=2,
                     hidden_size=4, activations=["Relu"]),
    # embeddings and indexing
    "Gather-embedding": case("Gather", {"i": i64(0, 5, -1, 2).reshape(2, 2)},
                             {"table": f32(6, 3)}, order=["table", "i"]),
    "Gather-axis": case("Gather", {"x": f32(2, 5, 3), "i": i64(4, 0, -2)}, axis=1),
    "Gather-scalar": case("Gather", {"x": f32(4, 3), "i": np.array(-1, np.int64)}),
    "Slice": case("Slice", {"x": f32(5, 6, 4)}, {"s": i64(1, -1), "e": i64(-1, -100),
                                                 "a": i64(0, 1), "st": i64(2, -2)}, opset=13),
    "Slice-clamped": case("Slice", {"x": f32(5, 6)}, {"s": i64(-100), "e": i64(2**62)}),
    "Slice-opset9": case("Slice", {"x": f32(5, 6)}, opset=9, starts=[1, 0], ends=[4, -1]),
    "Split": case("Split", {"x": f32(2, 6, 3)}, {"s": i64(1, 3, 2)}, outputs=3, opset=13, axis=1),
    "Split-equal": case("Split", {"x": f32(2, 6, 3)}, outputs=3, opset=13, axis=-2),
    "Split-opset11": case("Split", {"x": f32(4, 3)}, outputs=2, opset=11, split=[3, 1]),
    "Split-num-outputs": case("Split", {"x": f32(5, 3)}, outputs=3, opset=18, num_outputs=3),
    # padding
    "Pad-constant": case("Pad", {"x": f32(2, 3, 4)}, {"p": i64(0, 1, 2, 1, 0, -1),
                                                      "v": np.array(0.5, np.float32)},
                         keep=("v",)),
    "Pad-reflect": case("Pad", {"x": X4}, {"p": i64(0, 0, 2, 1, 0, 0, 1, 3)}, mode="reflect"),
    "Pad-edge": case("Pad", {"x": X4}, {"p": i64(0, 0, 2, 1, 0, 0, 1, 3)}, mode="edge"),
    "Pad-wrap": case("Pad", {"x": X4}, {"p": i64(0, 0, 2, 1, 0, 0, 1, 3)}, opset=19,
                     mode="wrap"),
    "Pad-axes": case("Pad", {"x": f32(2, 3, 4)}, {"p": i64(1, 2), "v": np.array(-1.0, np.float32),
                                                  "a": i64(-1)}, opset=18, keep=("v",)),
    # shapes
    "Reshape": case("Reshape", {"x": f32(2, 3, 4)}, {"s": i64(0, -1, 2)}),
    "Flatten": case("Flatten", {"x": f32(2, 3, 4, 5)}, axis=2),
    "Flatten-0": case("Flatten", {"x": f32(2, 3)}, axis=0),
    "Transpose": case("Transpose", {"x": f32(2, 3, 4)}, perm=[2, 0, 1]),
    "Transpose-default": case("Transpose", {"x": f32(2, 3, 4)}),
    "Squeeze": case("Squeeze", {"x": f32(2, 1, 3, 1)}, {"a": i64(-1)}, opset=13),
    "Squeeze-all": case("Squeeze", {"x": f32(2, 1, 3, 1)}, opset=13),
    "Squeeze-opset11": case("Squeeze", {"x": f32(2, 1, 3, 1)}, opset=11, axes=[1]),
    "Unsqueeze": case("Unsqueeze", {"x": f32(2, 3)}, {"a": i64(0, -1)}, opset=13),
    "Unsqueeze-opset11": case("Unsqueeze", {"x": f32(2, 3)}, opset=11, axes=[1]),
    "Concat": case("Concat", {"a": f32(2, 3), "b": f32(2, 1), "c": f32(2, 2)}, axis=-1),
    "Shape": case("Shape", {"x": f32(2, 3, 4)}),
    "Shape-start-end": case("Shape", {"x": f32(2, 3, 4)}, opset=15, start=1, end=-1),
    "Expand": case("Expand", {"x": f32(3, 1)}, {"s": i64(2, 1, 4)}),
    "Identity": case("Identity", {"x": f32(2, 3)}),
    "Dropout": case("Dropout", {"x": f32(2, 3)}, {"r": np.array(0.3, np.float32)}, opset=13,
                    keep=("r",)),
    "Cast-to-int": case("Cast", {"x": f32(2, 3) * 3}, to=7),
    "Cast-to-float": case("Cast", {"x": i64(1, -2, 3)}, to=1),
    "Cast-to-double": case("Cast", {"x": f32(2, 3)}, to=11),
    "Where": case("Where", {"c": f32(2, 3) > 0, "a": f32(2, 3), "b": f32(3)}),
    "Equal": case("Equal", {"a": i64(1, 2, 3), "b": i64(1, 0, 3)}),
    "ConstantOfShape": case("ConstantOfShape", {"s": i64(2, 3)},
                            value=helper.make_tensor("v", 7, [1], [5])),
}
# the ops whose outputs are differentiable in their float inputs (not Shape, Cast, ...)
NOT_DIFFERENTIABLE = {"Shape", "Shape-start-end", "Cast-to-int", "Cast-to-float", "Equal",
                      "ConstantOfShape", "Cast-to-double"}


# onnxruntime runs recurrent layers only with layout=0: these are compared with it on the
# layout=0 form of the same node (inputs and outputs transposed)
BATCH_FIRST = {"LSTM-layout1", "GRU-layout1"}


@pytest.mark.parametrize("name", sorted(set(CASES) - BATCH_FIRST))
def test_matches_onnxruntime(name):
    assert_matches_ort(*build(CASES[name]))


@pytest.mark.parametrize("name", sorted(BATCH_FIRST))
def test_batch_first_recurrent_layers_match_onnxruntime_on_the_sequence_first_form(name):
    c = CASES[name]
    model_bytes, inputs = build(c)
    got = run_ember(model_bytes, inputs)
    seq_first = dict(c, attrs={**c["attrs"], "layout": 0},
                     inputs={k: v.swapaxes(0, 1).copy() for k, v in c["inputs"].items()})
    expected = run_ort(*build(seq_first))
    assert len(got) == len(expected) == c["outputs"]
    # Y (T, D, B, H) -> (B, T, D, H); Y_h and Y_c (D, B, H) -> (B, D, H)
    undo = [expected[0].transpose(2, 0, 1, 3)] + [e.swapaxes(0, 1) for e in expected[1:]]
    for g, e in zip(got, undo):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", sorted(set(CASES) - NOT_DIFFERENTIABLE))
def test_gradients_of_inputs_and_weights(name):
    model_bytes, inputs = build(CASES[name], weights_as_inputs=True)
    model = ember.onnx.load(model_bytes).double()
    args = []
    for a in inputs.values():
        t = ember.from_numpy(a.astype(np.float64) if a.dtype.kind == "f" else a)
        args.append(t.requires_grad_(True) if a.dtype.kind == "f" else t)

    def f(*xs):
        out = model(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(o for o in outs if o.dtype.is_floating_point)
    assert gradcheck(f, tuple(args))


def test_constant_node_feeds_the_graph():
    nodes = [helper.make_node("Constant", [], ["k"],
                              value=helper.make_tensor("k", 1, [2], [0.5, -2.0])),
             helper.make_node("Mul", ["x", "k"], ["y"])]
    x = f32(3, 2)
    model_bytes = graph_model(nodes, {"x": x}, ["y"])
    assert_matches_ort(model_bytes, {"x": x})
    model = ember.onnx.load(model_bytes)
    assert list(model.parameters()) == []  # a Constant is not trainable


def test_dynamic_axes_accept_other_sizes():
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)]
    init = {"w": f32(3, 4), "b": f32(3)}
    model_bytes = graph_model(nodes, {"x": f32(2, 4)}, ["y"], init, dynamic=True)
    for batch in (1, 5):
        assert_matches_ort(model_bytes, {"x": f32(batch, 4)})
