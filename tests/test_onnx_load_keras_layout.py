"""A graph in the form tf2onnx writes for a Keras model (channels-last input, Transpose around
the convolution, MatMul + Add for Dense), built by hand from a real Keras 3 model's weights:
ember's loaded module equals onnxruntime and Keras itself. (Keras' own
`model.export(format="onnx")` needs TensorFlow and tf2onnx, which are not installed here.)"""
import numpy as np

from keras_reference import real_keras, to_numpy
from onnx_load_helpers import assert_matches_ort, graph_model, helper

import ember


def keras_cnn_as_onnx(keras):
    model = keras.Sequential([keras.Input((8, 8, 3)),
                              keras.layers.Conv2D(4, 3, padding="same", activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    kernel, bias, dense_kernel, dense_bias = (to_numpy(w.value) for w in model.weights)
    nodes = [helper.make_node("Transpose", ["x"], ["nchw"], perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["nchw", "kernel", "bias"], ["c"], auto_pad="SAME_UPPER"),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Transpose", ["p"], ["nhwc"], perm=[0, 2, 3, 1]),
             helper.make_node("Reshape", ["nhwc", "flat"], ["f"]),
             helper.make_node("MatMul", ["f", "dense_kernel"], ["m"]),
             helper.make_node("Add", ["m", "dense_bias"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["y"], axis=-1)]
    init = {"kernel": kernel.transpose(3, 2, 0, 1).copy(), "bias": bias,
            "dense_kernel": dense_kernel, "dense_bias": dense_bias,
            "flat": np.array([-1, 64], np.int64)}
    data = graph_model(nodes, {"x": np.zeros((1, 8, 8, 3), np.float32)}, ["y"], init,
                       opset=13, dynamic=True)
    return model, data


def test_channels_last_graph_matches_keras_and_onnxruntime():
    keras = real_keras()
    model, data = keras_cnn_as_onnx(keras)
    loaded = ember.onnx.load(data)
    for batch in (1, 4):
        x = np.random.default_rng(batch).standard_normal((batch, 8, 8, 3)).astype(np.float32)
        assert_matches_ort(data, {"x": x})
        np.testing.assert_allclose(loaded(ember.from_numpy(x)).detach().numpy(),
                                   to_numpy(model(x)), rtol=1e-5, atol=1e-6)
