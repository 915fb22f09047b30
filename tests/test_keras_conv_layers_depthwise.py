"""keras.layers.DepthwiseConv1D/2D and SeparableConv1D/2D: a NumPy reference of Keras' formulas,
real Keras 3 on the same weights, both data formats, float64 gradients, config, errors."""
import itertools

import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers

from keras_layer_checks import fresh_keras  # noqa: F401 (an autouse fixture)
from keras_layer_checks import (assert_config_round_trip, assert_l2_regularizer_not_ignored,
                                assert_matches_real_keras, gradcheck_layer, rand, run,
                                weight_names)
from keras_reference import real_keras


def _tf_pads(padding, size, k, s, d):
    if padding == "valid":
        return 0, 0
    total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def depthwise_ref(x, kernel, bias, strides, padding, dilation):
    """x (N, *spatial, C), Keras kernel (*k, C, M): out[..., c * M + m] sums
    x[..., c] * kernel[tap, c, m] over the taps (TF "same": the odd pixel at the end)."""
    rank = x.ndim - 2
    ks = kernel.shape[:rank]
    pads = [_tf_pads(padding, n, k, s, d) for n, k, s, d in
            zip(x.shape[1:-1], ks, strides, dilation)]
    xp = np.pad(x.astype(np.float64), [(0, 0)] + pads + [(0, 0)])
    out_sizes = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in
                 zip(xp.shape[1:-1], ks, strides, dilation)]
    out = np.zeros((x.shape[0], *out_sizes, x.shape[-1], kernel.shape[-1]))
    for tap in itertools.product(*[range(k) for k in ks]):
        window = tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in
                       zip(tap, dilation, out_sizes, strides))
        out += xp[(slice(None),) + window][..., None] * kernel[tap]
    out = out.reshape(*out.shape[:-2], -1)
    return out + (0 if bias is None else bias)


def separable_ref(x, depthwise, pointwise, bias, strides, padding, dilation):
    mixed = depthwise_ref(x, depthwise, None, strides, padding, dilation) @ \
        pointwise.reshape(pointwise.shape[-2], pointwise.shape[-1])
    return mixed + (0 if bias is None else bias)


CASES = [  # kernel, strides, padding, dilation, depth_multiplier
    (3, 1, "valid", 1, 1), (3, 2, "same", 1, 2), ((2, 3), (2, 1), "same", 1, 3),
    (3, 1, "same", 2, 1), (2, 3, "valid", 1, 2), (3, 2, "same", 2, 1),
]


@pytest.mark.parametrize("kernel,strides,padding,dilation,multiplier", CASES)
def test_depthwise_conv2d_matches_numpy_and_real_keras(kernel, strides, padding, dilation,
                                                       multiplier):
    x = rand(2, 7, 6, 3, seed=1)
    make = lambda L: L.DepthwiseConv2D(kernel, strides=strides, padding=padding,  # noqa: E731
                                       depth_multiplier=multiplier, dilation_rate=dilation)
    layer = make(layers)
    layer.bias_initializer = ek.initializers.get("random_normal")
    out = run(layer, x)
    k, b = layer.get_weights()
    assert k.shape == layer.kernel_size + (3, multiplier) and b.shape == (3 * multiplier,)
    np.testing.assert_allclose(out, depthwise_ref(x, k, b, layer.strides, padding,
                                                  layer.dilation_rate), atol=1e-5)
    assert_matches_real_keras(layer, lambda keras: make(keras.layers), x)


@pytest.mark.parametrize("kernel,strides,padding,dilation,multiplier", CASES)
def test_separable_conv2d_matches_numpy_and_real_keras(kernel, strides, padding, dilation,
                                                       multiplier):
    x = rand(2, 7, 6, 3, seed=2)
    make = lambda L: L.SeparableConv2D(4, kernel, strides=strides,  # noqa: E731
                                       padding=padding, depth_multiplier=multiplier,
                                       dilation_rate=dilation, bias_initializer="ones")
    layer = make(layers)
    out = run(layer, x)
    d, p, b = layer.get_weights()
    assert p.shape == (1, 1, 3 * multiplier, 4)
    np.testing.assert_allclose(out, separable_ref(x, d, p, b, layer.strides, padding,
                                                  layer.dilation_rate), atol=1e-5)
    assert_matches_real_keras(layer, lambda keras: make(keras.layers), x)


CASES_1D = [(3, 1, "valid", 1, 1), (3, 2, "same", 1, 2), (2, 1, "same", 3, 2),
            (4, 3, "valid", 1, 1)]


@pytest.mark.parametrize("kernel,strides,padding,dilation,multiplier", CASES_1D)
def test_depthwise_and_separable_conv1d_match_numpy_and_real_keras(kernel, strides, padding,
                                                                   dilation, multiplier):
    x = rand(2, 9, 3, seed=3)
    make_d = lambda L: L.DepthwiseConv1D(kernel, strides=strides,  # noqa: E731
                                         padding=padding, depth_multiplier=multiplier,
                                         dilation_rate=dilation, bias_initializer="ones")
    depthwise = make_d(layers)
    k, b = (depthwise(x), depthwise.get_weights())[1]
    np.testing.assert_allclose(run(depthwise, x), depthwise_ref(
        x, k, b, (strides,), padding, (dilation,)), atol=1e-5)
    assert_matches_real_keras(depthwise, lambda keras: make_d(keras.layers), x)
    make_s = lambda L: L.SeparableConv1D(2, kernel, strides=strides,  # noqa: E731
                                         padding=padding, depth_multiplier=multiplier,
                                         dilation_rate=dilation, bias_initializer="ones")
    separable = make_s(layers)
    d, p, b = (separable(x), separable.get_weights())[1]
    assert p.shape == (1, 3 * multiplier, 2)
    np.testing.assert_allclose(run(separable, x), separable_ref(
        x, d, p, b, (strides,), padding, (dilation,)), atol=1e-5)
    assert_matches_real_keras(separable, lambda keras: make_s(keras.layers), x)


@pytest.mark.parametrize("name", ["DepthwiseConv2D", "SeparableConv2D", "DepthwiseConv1D",
                                  "SeparableConv1D"])
def test_channels_first_matches_channels_last_and_real_keras(name):
    rank = 2 if name.endswith("2D") else 1
    args = (3,) if name.startswith("Depthwise") else (4, 3)
    x_last = rand(2, *((5, 6) if rank == 2 else (7,)), 3, seed=4)
    x_first = np.ascontiguousarray(np.moveaxis(x_last, -1, 1))
    make = lambda L, fmt: getattr(L, name)(*args, padding="same",  # noqa: E731
                                           depth_multiplier=2, activation="relu",
                                           data_format=fmt)
    last, first = make(layers, "channels_last"), make(layers, "channels_first")
    out = run(last, x_last)
    run(first, x_first)
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(run(first, x_first), np.moveaxis(out, -1, 1), atol=1e-5)
    assert (out >= 0).all()
    assert_matches_real_keras(first, lambda keras: make(keras.layers, "channels_first"), x_first)


@pytest.mark.parametrize("make,shape,names", [
    (lambda: layers.DepthwiseConv2D(2, strides=2, padding="same", depth_multiplier=2,
                                    activation="tanh", bias_initializer="random_normal"),
     (2, 3, 3, 2), ["kernel", "bias"]),
    (lambda: layers.SeparableConv2D(3, (2, 3), padding="same", depth_multiplier=2,
                                    data_format="channels_first",
                                    bias_initializer="random_normal"),
     (2, 2, 3, 3), ["depthwise_kernel", "pointwise_kernel", "bias"]),
    (lambda: layers.DepthwiseConv1D(3, dilation_rate=2, use_bias=False), (2, 6, 2), ["kernel"]),
    (lambda: layers.SeparableConv1D(2, 2, strides=2, activation="relu",
                                    bias_initializer="random_normal"),
     (2, 6, 3), ["depthwise_kernel", "pointwise_kernel", "bias"]),
])
def test_gradients_of_input_and_every_weight(make, shape, names):
    layer = make()
    assert gradcheck_layer(layer, rand(*shape, seed=5))
    assert weight_names(layer) == names


@pytest.mark.parametrize("make", [
    lambda: layers.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=3,
                                   activation="relu", depthwise_initializer="he_uniform"),
    lambda: layers.SeparableConv2D(5, 3, dilation_rate=2, data_format="channels_first",
                                   pointwise_initializer="lecun_normal", use_bias=False),
    lambda: layers.DepthwiseConv1D(2), lambda: layers.SeparableConv1D(3, 2, padding="same")])
def test_config_round_trip_and_keys_equal_real_keras(make):
    layer = make()
    spatial = (8, 8) if type(layer).__name__.endswith("2D") else (8,)
    x = rand(2, *spatial, 4) if layer.data_format == "channels_last" else rand(2, 4, *spatial)
    assert_config_round_trip(layer, x)
    assert tuple(layer.compute_output_shape(x.shape)) == run(layer, x).shape
    keras = real_keras()
    config = layer.get_config()
    theirs = getattr(keras.layers, type(layer).__name__).from_config(config).get_config()
    assert set(theirs) - set(config) <= {"dtype"}
    for key in set(theirs) - {"dtype", "name"} - {k for k in theirs if k.endswith("initializer")}:
        assert config[key] == theirs[key], key


def test_compute_output_shape_and_keras_weight_order():
    layer = layers.SeparableConv2D(8, 3, strides=2, padding="same", depth_multiplier=2)
    assert layer.compute_output_shape((None, 9, None, 3)) == (None, 5, None, 8)
    assert layers.DepthwiseConv2D(3, depth_multiplier=4).compute_output_shape(
        (1, 5, 5, 2)) == (1, 3, 3, 8)
    layer(np.zeros((1, 9, 9, 3), np.float32))
    assert [w.shape for w in layer.weights] == [(3, 3, 3, 2), (1, 1, 6, 8), (8,)]
    assert layer.count_params() == 54 + 48 + 8


def test_a_mobilenet_style_block_trains():
    (x, y), _ = ember.datasets.load_digits()
    x = (x.reshape(-1, 8, 8, 1) / 16).astype(np.float32)[:512]
    y = y[:512]
    model = ek.Sequential([
        layers.Input((8, 8, 1)),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu"),
        layers.SeparableConv2D(16, 3, padding="same", activation="relu", depth_multiplier=2),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer=ek.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.7


@pytest.mark.parametrize("make,message", [
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "DepthwiseConv2D: depth_multiplier"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=1.5), "depth_multiplier must be"),
    (lambda: layers.DepthwiseConv2D((3, 0)), "DepthwiseConv2D: kernel_size must be positive"),
    (lambda: layers.DepthwiseConv1D(3, strides=0), "DepthwiseConv1D: strides"),
    (lambda: layers.DepthwiseConv1D(3, padding="causal"), "DepthwiseConv1D: padding"),
    (lambda: layers.SeparableConv2D(0, 3), "SeparableConv2D: filters must be a positive"),
    (lambda: layers.SeparableConv2D(2, 3, depth_multiplier=-1), "SeparableConv2D: depth_mult"),
    (lambda: layers.SeparableConv1D(2, (3, 3)), "SeparableConv1D: kernel_size"),
    (lambda: layers.SeparableConv2D(2, 3, data_format="NCHW"), "SeparableConv2D: data_format"),
])
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_and_unsupported_arguments():
    layer = layers.DepthwiseConv2D(3, name="dw")
    with pytest.raises(ember.ShapeError, match=r'DepthwiseConv2D "dw": expected input of 4 '
                                               r"dimensions.*\(2, 5, 3\)"):
        layer(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r'DepthwiseConv2D "dw".*output size.*\(1, 2, 5, 3\)'):
        layer(np.zeros((1, 2, 5, 3), np.float32))
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ember.ShapeError, match=r"3 channels on axis 3.*\(1, 5, 5, 4\)"):
        layer(np.zeros((1, 5, 5, 4), np.float32))
    with pytest.raises(ember.ShapeError, match=r"kernel \(3, 3\).*larger.*\(2, 5\)"):
        layer(np.zeros((1, 2, 5, 3), np.float32))
    with pytest.raises(TypeError, match="unrecognized keyword arguments"):
        layers.SeparableConv2D(2, 3, pointwise=3)
    assert_l2_regularizer_not_ignored(
        layers.SeparableConv2D(2, 3, pointwise_regularizer="l2"), rand(1, 3, 3, 1), 1)
    assert_l2_regularizer_not_ignored(
        layers.DepthwiseConv1D(2, depthwise_regularizer="l2"), rand(1, 3, 2), 0)
