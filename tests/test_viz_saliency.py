"""ember.viz.saliency: |d score / d x| (max over channels) equals finite differences in float64,
PyTorch's autograd on the same weights (torch face) and real Keras' (Keras face); eval mode
for the look, modes and .grad left as they were; bad targets are named; the plot is a PNG."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember import viz
from keras_reference import real_keras
from viz_models import (check_png, figure_pixels, images, keras_small_cnn,
                        need_plotting, small_net, torch_small_net)


def finite_difference_gradient(model, x, targets, eps=1e-6):
    """d output[i, targets[i]] / d x[i] by central differences, sample by sample."""
    gradient = np.zeros_like(x)
    with ember.no_grad():
        for index in np.ndindex(x.shape):
            i = index[0]
            scores = []
            for step in (eps, -eps):
                moved = x[i:i + 1].copy()
                moved[(0,) + index[1:]] += step
                scores.append(model(ember.from_numpy(moved)).numpy()[0, targets[i]])
            gradient[index] = (scores[0] - scores[1]) / (2 * eps)
    return gradient


def test_equals_finite_differences_in_float64():
    model = small_net().double()
    x = images(dtype=np.float64)
    targets = [0, 2]
    model.train()
    result = viz.saliency(model, x, target=targets)
    assert model.training and model.drop.training  # (eval for the look, then restored)
    model.eval()
    expected = np.abs(finite_difference_gradient(model, x, targets)).max(axis=1)
    assert result.shape == (2, 6, 6) and result.dtype == np.float64
    np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-8)


def test_equals_pytorch_on_the_same_weights():
    torch = pytest.importorskip("torch")
    model = small_net()
    twin = torch_small_net(model)
    x = images()
    targets = [1, 2]
    inputs = torch.tensor(x, requires_grad=True)
    score = twin(inputs)[torch.arange(2), torch.tensor(targets)].sum()
    (gradient,) = torch.autograd.grad(score, inputs)
    expected = gradient.abs().amax(dim=1).numpy()
    np.testing.assert_allclose(viz.saliency(model, x, target=targets), expected,
                               rtol=1e-5, atol=1e-7)


def test_keras_face_equals_real_keras_on_the_same_weights():
    keras = real_keras()
    import torch
    ours = keras_small_cnn()
    theirs = keras.Sequential([keras.Input((6, 6, 2)),
                               keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
                               keras.layers.Conv2D(4, 3, activation="relu"),
                               keras.layers.Flatten(), keras.layers.Dense(3)])
    theirs.set_weights(ours.get_weights())
    x = images(shape=(6, 6, 2))
    targets = [2, 0]
    inputs = torch.tensor(x, requires_grad=True)
    score = theirs(inputs)[torch.arange(2), torch.tensor(targets)].sum()
    (gradient,) = torch.autograd.grad(score, inputs)
    expected = gradient.abs().amax(dim=-1).numpy()  # NHWC: channels last
    result = viz.saliency(ours, x, target=targets)
    assert result.shape == (2, 6, 6)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-7)


def test_default_target_is_the_top_class_and_no_grad_is_left_behind():
    model = small_net()
    x = images(n=3)
    model.eval()
    with ember.no_grad():
        top = model(ember.from_numpy(x)).numpy().argmax(axis=1)
    np.testing.assert_array_equal(viz.saliency(model, x), viz.saliency(model, x, target=top))
    assert all(p.grad is None for p in model.parameters())


def test_flat_inputs_keep_their_shape():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3))
    x = images(shape=(5,))
    result = viz.saliency(model, x, target=1)
    assert result.shape == (2, 5)
    # one linear map through tanh: the gradient is W2[1] * tanh' @ W1, by hand
    w1, b1 = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    w2 = model[2].weight.detach().numpy()
    slope = 1 - np.tanh(x @ w1.T + b1) ** 2
    np.testing.assert_allclose(result, np.abs((slope * w2[1]) @ w1), rtol=1e-5, atol=1e-7)


def test_bad_targets_and_outputs_are_named():
    model, x = small_net(), images()
    with pytest.raises(ValueError, match=r"target 3 is out of range for a model with 3 "
                                         r"classes .* \[0, 3\)"):
        viz.saliency(model, x, target=3)
    with pytest.raises(ValueError, match=r"target -1 is out of range"):
        viz.saliency(model, x, target=[0, -1])
    with pytest.raises(ValueError, match=r"a class index or one per sample \(2\)"):
        viz.saliency(model, x, target=[0, 1, 2])
    with pytest.raises(ValueError, match=r"a class index or one per sample"):
        viz.saliency(model, x, target=1.5)
    with pytest.raises(ValueError, match=r"class scores of shape \(N, classes\). "
                                         r"Received: \(2, 3, 6, 6\)"):
        viz.saliency(model.conv1, x)


def test_plot_saliency_of_both_faces(tmp_path):
    need_plotting()
    figure = viz.plot_saliency(small_net(), images(), path=tmp_path / "t.png")
    assert len(figure.axes) == 6  # per sample: the input, the map and its colour bar
    check_png(tmp_path / "t.png", figure_pixels(figure))
    figure = viz.plot_saliency(keras_small_cnn(), images(n=1, shape=(6, 6, 2)), target=1,
                               path=tmp_path / "k.png")
    assert len(figure.axes) == 3
    check_png(tmp_path / "k.png", figure_pixels(figure))
    figure = viz.plot_saliency(small_net(in_channels=3), images(n=1, shape=(3, 6, 6)),
                               path=tmp_path / "rgb.png")  # (three channels show as RGB)
    check_png(tmp_path / "rgb.png", figure_pixels(figure))
    model = nn.Sequential(nn.Linear(5, 3))
    with pytest.raises(ValueError, match=r"draws image inputs.*\(2, 5\)"):
        viz.plot_saliency(model, images(shape=(5,)))
