"""ember.viz.plot_filters: the kernels of an nn.Conv2d (OIHW) or a Keras Conv2D (HWIO) as one
image per filter, normalized per filter; anything that is not a 2-D convolution is named."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import viz
from ember.viz.filters import conv_weight, filter_tiles
from viz_models import check_png, figure_pixels, keras_small_cnn, need_plotting


def per_filter_minmax(tiles):
    axes = tuple(range(1, tiles.ndim))
    low, high = tiles.min(axis=axes, keepdims=True), tiles.max(axis=axes, keepdims=True)
    return (tiles - low) / (high - low)


def test_tiles_are_the_filters_normalized_one_by_one():
    ember.manual_seed(0)
    conv = nn.Conv2d(3, 5, kernel_size=(3, 2))
    weight, name = conv_weight(conv)
    expected = conv.weight.detach().numpy().astype(np.float64)
    np.testing.assert_array_equal(weight, expected)
    np.testing.assert_allclose(filter_tiles(weight), per_filter_minmax(expected.mean(axis=1)))
    np.testing.assert_allclose(filter_tiles(weight, "all"), per_filter_minmax(expected))
    np.testing.assert_allclose(filter_tiles(weight, 2), per_filter_minmax(expected[:, 2]))
    assert filter_tiles(np.zeros((2, 1, 3, 3))).max() == 0  # (a constant filter: no NaN)


def test_keras_conv2d_reads_its_kernel_in_keras_layout():
    layer = keras_small_cnn().get_layer("last_conv")
    kernel = layer.get_weights()[0]  # (3, 3, 3, 4): HWIO
    weight, name = conv_weight(layer)
    assert name == "last_conv" and weight.shape == (4, 3, 3, 3)
    np.testing.assert_array_equal(weight, kernel.transpose(3, 2, 0, 1))
    np.testing.assert_array_equal(conv_weight(kernel, layout="HWIO")[0], weight)
    np.testing.assert_array_equal(conv_weight(ember.from_numpy(weight))[0], weight)


def test_plot_filters_of_both_faces_and_every_channel_choice(tmp_path):
    need_plotting()
    ember.manual_seed(0)
    conv = nn.Conv2d(2, 6, 3)
    for i, channels in enumerate(("mean", "all", 1)):
        figure = viz.plot_filters(conv, tmp_path / f"{i}.png", channels=channels)
        assert len(figure.axes) == 1
        check_png(tmp_path / f"{i}.png", figure_pixels(figure))
    figure = viz.plot_filters(keras_small_cnn().get_layer("first_conv"), tmp_path / "k.png")
    check_png(tmp_path / "k.png", figure_pixels(figure))
    assert viz.plot_filters(conv.weight).axes[0].get_title().startswith("weight: 6 filters 3x3")


def test_what_is_not_a_conv2d_is_named():
    with pytest.raises(TypeError, match=r"Linear is not a 2-D convolution"):
        viz.plot_filters(nn.Linear(3, 2))
    with pytest.raises(TypeError, match=r"Dense is not a 2-D convolution"):
        viz.plot_filters(keras_small_cnn().get_layer("scores"))
    with pytest.raises(ValueError, match=r"4-D array of numbers \(OIHW\). Received: shape "
                                         r"\(3, 2\)"):
        viz.plot_filters(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"channels must be 'mean', 'all' or an input channel "
                                         r"index in \[0, 2\)"):
        viz.plot_filters(nn.Conv2d(2, 4, 3), channels=2)
    with pytest.raises(ValueError, match=r"layout must be 'OIHW' \(PyTorch\) or 'HWIO'"):
        viz.plot_filters(np.zeros((4, 2, 3, 3)), layout="NCHW")
    with pytest.raises(ValueError, match=r"a layer knows its own layout"):
        viz.plot_filters(nn.Conv2d(2, 4, 3), layout="HWIO")
    from ember import keras as ek
    with pytest.raises(ValueError, match=r"Conv2D layer 'unbuilt' has no kernel yet"):
        viz.plot_filters(ek.layers.Conv2D(4, 3, name="unbuilt"))
