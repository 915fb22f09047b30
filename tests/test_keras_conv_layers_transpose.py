"""keras.layers.Conv1DTranspose / Conv2DTranspose: a NumPy scatter reference of Keras' rule,
real Keras 3 on the same weights, both data formats, float64 gradients, config, errors."""
import itertools

import numpy as np
import pytest

import ember
from ember import keras as ek
from ember.keras import layers

from keras_reference import real_keras
from keras_layer_checks import fresh_keras  # noqa: F401 (an autouse fixture)
from keras_layer_checks import (assert_config_round_trip, assert_l2_regularizer_not_ignored,
                                assert_matches_real_keras, gradcheck_layer, rand, run,
                                weight_names)


def keras_window(size, k, s, d, padding, output_padding):
    """(first index kept of the full output, output length): Keras' (TF/JAX) rule, written
    from its shape formulas: 'same' gives size * s, or (size - 1) * s + k % 2 + op."""
    span = (k - 1) * d + 1
    if padding == "valid":
        op = max(span, s) - span if output_padding is None else output_padding
        return 0, (size - 1) * s + span + op
    if output_padding is None:
        total = s + span - 2
        length = size * s
    else:
        total = span + span % 2 - 2 + output_padding
        length = (size - 1) * s + span % 2 + output_padding
    left = min(total // 2 + total % 2, span - 1)
    return span - 1 - left, length


def conv_transpose_ref(x, kernel, bias, strides, padding, output_padding, dilation):
    """x (N, *spatial, C), Keras kernel (*k, F, C): each input pixel scatters kernel * value
    into a full output, which is then windowed (zeros where the window passes its end)."""
    rank = x.ndim - 2
    spatial, ks = x.shape[1:-1], kernel.shape[:rank]
    full_shape = [(n - 1) * s + (k - 1) * d + 1 for n, k, s, d in
                  zip(spatial, ks, strides, dilation)]
    full = np.zeros((x.shape[0], *full_shape, kernel.shape[-2]))
    for pos in itertools.product(*[range(n) for n in spatial]):
        for tap in itertools.product(*[range(k) for k in ks]):
            at = tuple(p * s + t * d for p, t, s, d in zip(pos, tap, strides, dilation))
            full[(slice(None),) + at] += x[(slice(None),) + pos] @ kernel[tap].T
    windows = [keras_window(n, k, s, d, padding, None if output_padding is None
                            else output_padding[i])
               for i, (n, k, s, d) in enumerate(zip(spatial, ks, strides, dilation))]
    out = np.zeros((x.shape[0], *[length for _, length in windows], kernel.shape[-2]))
    src = tuple(slice(start, min(start + length, f)) for (start, length), f in
                zip(windows, full_shape))
    dst = tuple(slice(0, s.stop - s.start) for s in src)
    out[(slice(None),) + dst] = full[(slice(None),) + src]
    return out + (0 if bias is None else bias)


CASES_2D = [  # kernel, strides, padding, output_padding, dilation, input hw
    ((3, 3), (2, 2), "same", None, (1, 1), (4, 5)),
    ((3, 3), (2, 2), "valid", None, (1, 1), (4, 5)),
    ((2, 2), (2, 2), "same", None, (1, 1), (3, 3)),
    ((4, 3), (3, 2), "same", (2, 1), (1, 1), (3, 4)),
    ((3, 2), (3, 2), "valid", (1, 0), (1, 1), (2, 3)),
    ((1, 1), (3, 3), "valid", None, (1, 1), (2, 2)),   # stride > kernel: zeros at the end
    ((3, 3), (1, 1), "same", None, (2, 1), (5, 4)),
    ((2, 3), (1, 1), "valid", None, (2, 2), (3, 3)),
    ((5, 5), (2, 2), "same", (1, 1), (1, 1), (3, 3)),
]


@pytest.mark.parametrize("kernel,strides,padding,output_padding,dilation,hw", CASES_2D)
def test_conv2d_transpose_matches_numpy_and_real_keras(kernel, strides, padding,
                                                       output_padding, dilation, hw):
    x = rand(2, *hw, 3, seed=1)
    layer = layers.Conv2DTranspose(4, kernel, strides=strides, padding=padding,
                                   output_padding=output_padding, dilation_rate=dilation,
                                   bias_initializer="random_normal")
    out = run(layer, x)
    k, b = layer.get_weights()
    assert k.shape == kernel + (4, 3)
    np.testing.assert_allclose(out, conv_transpose_ref(x, k, b, strides, padding,
                                                       output_padding, dilation), atol=1e-5)
    assert_matches_real_keras(layer, lambda keras: keras.layers.Conv2DTranspose(
        4, kernel, strides=strides, padding=padding, output_padding=output_padding,
        dilation_rate=dilation), x)


CASES_1D = [  # kernel, strides, padding, output_padding, dilation, length
    (3, 2, "same", None, 1, 5), (3, 2, "valid", None, 1, 5), (4, 3, "same", 2, 1, 4),
    (2, 4, "valid", None, 1, 3), (3, 1, "same", None, 3, 6), (2, 3, "valid", 1, 1, 4),
]


@pytest.mark.parametrize("kernel,strides,padding,output_padding,dilation,length", CASES_1D)
def test_conv1d_transpose_matches_numpy_and_real_keras(kernel, strides, padding, output_padding,
                                                       dilation, length):
    x = rand(2, length, 3, seed=2)
    layer = layers.Conv1DTranspose(5, kernel, strides=strides, padding=padding,
                                   output_padding=output_padding, dilation_rate=dilation,
                                   bias_initializer="random_normal")
    out = run(layer, x)
    k, b = layer.get_weights()
    assert k.shape == (kernel, 5, 3)
    op = None if output_padding is None else (output_padding,)
    np.testing.assert_allclose(out, conv_transpose_ref(x, k, b, (strides,), padding, op,
                                                       (dilation,)), atol=1e-5)
    assert_matches_real_keras(layer, lambda keras: keras.layers.Conv1DTranspose(
        5, kernel, strides=strides, padding=padding, output_padding=output_padding,
        dilation_rate=dilation), x)


@pytest.mark.parametrize("rank", [1, 2])
def test_channels_first_matches_real_keras_and_channels_last(rank):
    cls = layers.Conv2DTranspose if rank == 2 else layers.Conv1DTranspose
    x_last = rand(2, *((4, 3) if rank == 2 else (5,)), 3, seed=3)
    x_first = np.ascontiguousarray(np.moveaxis(x_last, -1, 1))
    last = cls(2, 3, strides=2, padding="same", output_padding=1,
               bias_initializer="random_normal")
    first = cls(2, 3, strides=2, padding="same", output_padding=1,
                data_format="channels_first")
    out_last = run(last, x_last)
    run(first, x_first)
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(run(first, x_first), np.moveaxis(out_last, -1, 1), atol=1e-6)
    assert_matches_real_keras(first, lambda keras: getattr(keras.layers, cls.__name__)(
        2, 3, strides=2, padding="same", output_padding=1, data_format="channels_first"), x_first)


def test_activation_no_bias_and_initializers_match_real_keras():
    x = rand(2, 3, 3, 2, seed=4)
    layer = layers.Conv2DTranspose(3, 2, strides=2, activation="relu", use_bias=False,
                                   kernel_initializer="he_normal")
    out = run(layer, x)
    assert len(layer.get_weights()) == 1 and (out >= 0).all() and (out > 0).any()
    assert_matches_real_keras(layer, lambda keras: keras.layers.Conv2DTranspose(
        3, 2, strides=2, activation="relu", use_bias=False), x)
    # Keras' fans for a (k, k, filters, in) kernel: glorot limit sqrt(6 / ((in + filters) * k^2))
    big = layers.Conv2DTranspose(64, 3)
    big(np.zeros((1, 4, 4, 32), np.float32))
    kernel = big.get_weights()[0]
    limit = np.sqrt(6 / ((32 + 64) * 9))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    assert np.abs(kernel.std() - limit / np.sqrt(3)) < 0.05 * limit


@pytest.mark.parametrize("rank,padding,strides,output_padding,data_format", [
    (2, "same", 2, None, "channels_last"), (2, "valid", 2, None, "channels_first"),
    (2, "valid", 3, 1, "channels_last"), (1, "same", 2, 1, "channels_last"),
    (1, "valid", 3, None, "channels_first"),
])
def test_gradients_of_input_kernel_and_bias(rank, padding, strides, output_padding,
                                            data_format):
    cls = layers.Conv2DTranspose if rank == 2 else layers.Conv1DTranspose
    layer = cls(2, 2 if rank == 2 else 3, strides=strides, padding=padding,
                output_padding=output_padding, data_format=data_format, activation="tanh",
                bias_initializer="random_normal")
    shape = (2, 2, 3) if rank == 2 else (2, 4)
    shape = shape[:1] + (shape[-1],) + shape[1:-1] if data_format == "channels_first" else shape
    assert gradcheck_layer(layer, rand(2, *shape, seed=5))
    assert weight_names(layer) == ["kernel", "bias"]


def test_trains_weights_and_float32_matches_float64():
    x = rand(2, 3, 3, 2, seed=6)
    layer = layers.Conv2DTranspose(2, 3, strides=2, padding="same",
                                   bias_initializer="random_normal")
    out32 = run(layer, x)
    layer.double()
    with ember.no_grad():
        out64 = layer(ember.from_numpy(x.astype(np.float64))).numpy()
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out32, out64, atol=1e-5)


def test_config_round_trip_and_keras_config_keys():
    layer = layers.Conv2DTranspose(4, (3, 2), strides=(2, 1), padding="same",
                                   output_padding=(1, 0), activation="relu", name="up")
    assert_config_round_trip(layer, rand(1, 3, 3, 2))
    config = layer.get_config()
    keras = real_keras()
    theirs = keras.layers.Conv2DTranspose(4, (3, 2), strides=(2, 1), padding="same",
                                          output_padding=(1, 0), activation="relu").get_config()
    assert set(theirs) - set(config) <= {"dtype"}
    for key in ("filters", "kernel_size", "strides", "padding", "output_padding",
                "data_format", "dilation_rate", "activation", "use_bias"):
        assert config[key] == theirs[key], key


def test_compute_output_shape_without_building():
    layer = layers.Conv2DTranspose(4, 3, strides=2, padding="same")
    assert layer.compute_output_shape((None, 7, None, 3)) == (None, 14, None, 4)
    assert layer.compute_output_shape((5, 7, 9, 3)) == (5, 14, 18, 4)
    first = layers.Conv1DTranspose(6, 4, strides=3, data_format="channels_first")
    assert first.compute_output_shape((None, 2, 5)) == (None, 6, 16)
    assert not layer.built and not first.built


def test_in_a_sequential_model_with_summary_and_save_round_trip(tmp_path):
    model = ek.Sequential([layers.Input((4, 4, 2)),
                           layers.Conv2DTranspose(3, 3, strides=2, padding="same",
                                                  activation="relu"),
                           layers.Reshape((64, 3)),
                           layers.Conv1DTranspose(2, 2, strides=2)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 8, 8, 3)" in text and "(None, 128, 2)" in text
    assert model.count_params() == 3 * 3 * 3 * 2 + 3 + 2 * 2 * 3 + 2
    x = rand(3, 4, 4, 2)
    path = tmp_path / "m.ember"
    model.save(path)
    loaded = ek.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("make,message", [
    (lambda: layers.Conv2DTranspose(0, 3), r"Conv2DTranspose: filters must be a positive"),
    (lambda: layers.Conv2DTranspose(2, (3, 0)), r"Conv2DTranspose: kernel_size must be positive"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=0), r"Conv2DTranspose: strides"),
    (lambda: layers.Conv2DTranspose(2, 3, padding="causal"), r"Conv2DTranspose: padding"),
    (lambda: layers.Conv1DTranspose(2, 3, padding="causal"), r"Conv1DTranspose: padding"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2),
     r"output_padding must be strictly less than strides"),
    (lambda: layers.Conv2DTranspose(2, 3, output_padding=-1), r"output_padding"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2), r"dilation_rate > 1"),
    (lambda: layers.Conv2DTranspose(2, 3, data_format="NHWC"), r"data_format"),
    (lambda: layers.Conv1DTranspose(2, (3, 3)), r"Conv1DTranspose: kernel_size"),
])
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_and_unknown_arguments():
    layer = layers.Conv2DTranspose(2, 3, name="up")
    with pytest.raises(ember.ShapeError, match=r'Conv2DTranspose "up": expected input of 4 '
                                               r"dimensions.*\(2, 5, 3\)"):
        layer(np.zeros((2, 5, 3), np.float32))
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ember.ShapeError, match=r"3 channels on axis 3.*\(1, 3, 5, 5\).*"
                                               r"channels_first"):
        layer(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(TypeError, match="unrecognized keyword arguments"):
        layers.Conv2DTranspose(2, 3, kernel_sizes=3)
    assert_l2_regularizer_not_ignored(layers.Conv2DTranspose(2, 3, kernel_regularizer="l2"),
                                      rand(1, 3, 3, 1), 0)
