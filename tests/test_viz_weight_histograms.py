"""ember.viz.plot_weight_histograms: one panel per layer holding weights, each parameter's
values histogrammed, for both faces; models without weights and bad bins are named."""
import numpy as np
import pytest

import ember.nn as nn
from ember import viz
from ember.viz.weight_histograms import layer_weights
from viz_models import check_png, figure_pixels, keras_small_cnn, need_plotting, small_net


def test_torch_face_layers_by_path_with_their_parameters():
    model = small_net()
    found = layer_weights(model)
    assert [title for title, _ in found] == ["conv1 (Conv2d)", "conv2 (Conv2d)", "fc (Linear)"]
    names, values = zip(*found[2][1])
    assert names == ("weight", "bias")
    np.testing.assert_array_equal(values[0], model.fc.weight.detach().numpy().ravel())


def test_keras_face_layers_by_name_with_keras_weight_names():
    model = keras_small_cnn()
    found = layer_weights(model)
    assert [title for title, _ in found] == ["first_conv (Conv2D)", "last_conv (Conv2D)",
                                             "scores (Dense)"]
    names, values = zip(*found[1][1])
    assert names == ("kernel", "bias")
    kernel = model.get_layer("last_conv").get_weights()[0]
    np.testing.assert_array_equal(np.sort(values[0]), np.sort(kernel.ravel()))


def test_a_shared_parameter_counts_once():
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(layer_weights(model)) == 1


def test_plot_weight_histograms_of_both_faces(tmp_path):
    need_plotting()
    figure = viz.plot_weight_histograms(small_net(), path=tmp_path / "t.png")
    assert len(figure.axes) == 3
    assert [len(a.get_legend().get_texts()) for a in figure.axes] == [2, 2, 2]
    check_png(tmp_path / "t.png", figure_pixels(figure))
    assert figure_pixels(figure) == (1200, 300)
    figure = viz.plot_weight_histograms(keras_small_cnn(), path=tmp_path / "k.png", bins=10)
    assert [a.get_title() for a in figure.axes][-1] == "scores (Dense)"
    check_png(tmp_path / "k.png", figure_pixels(figure))


def test_models_without_weights_and_bad_bins_are_named():
    from ember import keras as ek
    with pytest.raises(ValueError, match=r"Sequential has no weights \(a Keras model makes them"):
        viz.plot_weight_histograms(ek.Sequential([ek.layers.Dense(2)]))
    with pytest.raises(ValueError, match=r"bins must be a positive integer. Received: bins=0"):
        viz.plot_weight_histograms(small_net(), bins=0)
    with pytest.raises(TypeError, match="model must be an ember nn.Module"):
        viz.plot_weight_histograms({"weight": np.zeros(3)})
