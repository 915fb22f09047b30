"""ember.viz.feature_maps / plot_feature_maps: a layer's output equals a manual forward to that
layer in both faces; the model runs in eval mode and gets its modes back; the plots are PNGs
with something on them; bad layers and inputs are named."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import viz
from viz_models import (check_png, figure_pixels, images, keras_small_cnn,
                        need_plotting, small_net)


def test_torch_face_equals_a_manual_forward_to_the_layer():
    model = small_net()
    x = images()
    with ember.no_grad():
        manual = model.conv2(F.relu(model.conv1(ember.from_numpy(x)))).numpy()  # (no dropout)
    model.train()
    by_name = viz.feature_maps(model, "conv2", x)
    by_object = viz.feature_maps(model, model.conv2, ember.from_numpy(x))
    assert by_name.shape == (2, 4, 6, 6)
    np.testing.assert_allclose(by_name, manual, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(by_object, by_name)
    # eval mode for the look (else the dropout before conv2 would change it), then restored
    assert model.training and model.drop.training and model.conv2.training


def test_modes_of_submodules_come_back_as_they_were():
    model = small_net()
    model.train()
    model.drop.eval()
    viz.feature_maps(model, "conv1", images())
    assert model.training and model.conv1.training and not model.drop.training


def test_nested_modules_by_dotted_path():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU()), nn.Flatten(),
                          nn.Linear(48, 2))
    x = images()
    with ember.no_grad():
        manual = F.relu(model[0][0](ember.from_numpy(x))).numpy()
    np.testing.assert_array_equal(viz.feature_maps(model, "0.1", x), manual)
    assert viz.feature_maps(model, "2", x).shape == (2, 2)


def test_an_in_place_op_after_the_layer_leaves_its_maps_alone():
    class InPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3)

        def forward(self, x):
            return F.relu(self.conv(x), inplace=True).flatten(1)

    ember.manual_seed(0)
    model, x = InPlace(), images()
    with ember.no_grad():
        expected = model.conv(ember.from_numpy(x)).numpy()
    maps = viz.feature_maps(model, "conv", x)
    assert maps.min() < 0  # (the convolution's output, not the ReLU written over it)
    np.testing.assert_array_equal(maps, expected)


def test_keras_face_equals_the_layers_called_in_turn():
    model = keras_small_cnn()
    x = images(shape=(6, 6, 2))
    first, last = model.get_layer("first_conv"), model.get_layer("last_conv")
    manual = last(first(ember.from_numpy(x))).detach().numpy()
    result = viz.feature_maps(model, "last_conv", x)
    assert result.shape == (2, 4, 4, 4)  # NHWC, as Keras gives it
    np.testing.assert_allclose(result, manual, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(viz.feature_maps(model, last, x), result)


def test_a_layer_with_several_outputs_gives_a_tuple():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 4, batch_first=True)
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.fc(out[:, -1])

    ember.manual_seed(0)
    model = Tagger()
    x = images(shape=(5, 3))
    out, (h, c) = viz.feature_maps(model, "lstm", x)
    assert out.shape == (2, 5, 4) and h.shape == c.shape == (1, 2, 4)
    np.testing.assert_allclose(out[:, -1], h[0], rtol=1e-6)


def test_bad_layers_and_inputs_are_named():
    model = small_net()
    x = images()
    with pytest.raises(ValueError, match=r"no layer named 'conv9'.*conv1, drop, conv2, fc"):
        viz.feature_maps(model, "conv9", x)
    with pytest.raises(ValueError, match="not part of the SmallNet model"):
        viz.feature_maps(model, nn.Conv2d(2, 3, 3), x)
    with pytest.raises(TypeError, match="layer must be a layer of the model or its name"):
        viz.feature_maps(model, 3, x)
    with pytest.raises(TypeError, match="model must be an ember nn.Module"):
        viz.feature_maps(lambda t: t, "conv1", x)
    with pytest.raises(ValueError, match=r"batch of inputs .* Received shape \(6,\)"):
        viz.feature_maps(model, "conv1", np.zeros(6))
    keras_model = keras_small_cnn()
    with pytest.raises(ValueError, match=r"no layer named 'conv2'.*first_conv, last_conv"):
        viz.feature_maps(keras_model, "conv2", images(shape=(6, 6, 2)))


def test_a_layer_the_forward_skips_or_repeats_is_refused():
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.act = nn.ReLU()
            self.unused = nn.Linear(2, 2)

        def forward(self, x):
            return self.act(self.act(x) - 1.0)

    model, x = Twice(), images(shape=(3,))
    with pytest.raises(ValueError, match="'unused' .* was not called"):
        viz.feature_maps(model, "unused", x)
    with pytest.raises(ValueError, match="'act' .* was called 2 times"):
        viz.feature_maps(model, "act", x)


def test_plot_feature_maps_of_both_faces(tmp_path):
    need_plotting()
    figure = viz.plot_feature_maps(small_net(), "conv2", images(), path=tmp_path / "t.png")
    assert len(figure.axes) == 1
    check_png(tmp_path / "t.png", figure_pixels(figure))
    figure = viz.plot_feature_maps(keras_small_cnn(), "last_conv", images(shape=(6, 6, 2)),
                                   path=tmp_path / "k.png", sample=1)
    check_png(tmp_path / "k.png", figure_pixels(figure))
    figure = viz.plot_feature_maps(small_net(), "fc", images(), path=tmp_path / "fc.png")
    check_png(tmp_path / "fc.png", figure_pixels(figure))


def test_plot_feature_maps_refuses_what_it_cannot_draw():
    need_plotting()
    with pytest.raises(ValueError, match=r"sample must be an index into the batch of 2"):
        viz.plot_feature_maps(small_net(), "conv2", images(), sample=2)
