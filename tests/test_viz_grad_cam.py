"""ember.viz.grad_cam: equals a NumPy implementation of the formula (ReLU of the channel sum
weighted by the spatial mean of the gradient, bilinear upsampling) on activations and
gradients known by hand or from PyTorch, in NCHW (torch face) and NHWC (Keras face); on a
constructed image it lights up the region that holds the evidence; bad layers are named."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import viz
from viz_models import (check_png, figure_pixels, images, keras_small_cnn,
                        need_plotting, small_net, torch_small_net)


def bilinear(maps, size):
    """(N, h, w) -> (N, *size) as PyTorch's bilinear interpolate with align_corners=False."""
    def taps(n_in, n_out):
        source = np.maximum((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0.0)
        low = np.floor(source).astype(int)
        return low, np.minimum(low + 1, n_in - 1), source - low

    (r0, r1, fr), (c0, c1, fc) = taps(maps.shape[1], size[0]), taps(maps.shape[2], size[1])
    rows = maps[:, r0] * (1 - fr)[None, :, None] + maps[:, r1] * fr[None, :, None]
    return rows[:, :, c0] * (1 - fc) + rows[:, :, c1] * fc


def numpy_grad_cam(activations, gradients, size):
    """Grad-CAM from (N, C, h, w) activations and their gradients."""
    weights = gradients.mean(axis=(2, 3))
    return bilinear(np.maximum(np.einsum("nc,nchw->nhw", weights, activations), 0.0), size)


class ConvHead(nn.Module):
    """conv1 -> ReLU -> conv2 (stride 2: a 2x2 map) -> flatten -> fc: the class score is linear
    in conv2's output, so its gradient is fc's row for the class."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.conv2 = nn.Conv2d(3, 4, 3, stride=2)
        self.fc = nn.Linear(4 * 2 * 2, 3)

    def forward(self, x):
        return self.fc(self.conv2(F.relu(self.conv1(x))).flatten(1))


def test_torch_face_equals_the_formula_on_known_gradients():
    ember.manual_seed(3)
    model = ConvHead()
    x = images(n=3)
    targets = np.array([0, 2, 1])
    activations = viz.feature_maps(model, "conv2", x)  # (3, 4, 2, 2)
    gradients = model.fc.weight.detach().numpy()[targets].reshape(3, 4, 2, 2)
    result = viz.grad_cam(model, "conv2", x, target=targets)
    assert result.shape == (3, 6, 6)
    expected = numpy_grad_cam(activations, gradients, (6, 6))
    assert expected.max() > 0  # (a map that is not all zeros)
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-7)


def test_keras_face_nhwc_equals_the_formula_on_known_gradients():
    model = keras_small_cnn()
    x = images(n=2, shape=(6, 6, 2))
    targets = np.array([1, 2])
    activations = viz.feature_maps(model, "last_conv", x).transpose(0, 3, 1, 2)  # to NCHW
    kernel = model.get_layer("scores").get_weights()[0]  # (4 * 4 * 4, 3): Flatten is (h, w, c)
    gradients = kernel[:, targets].T.reshape(2, 4, 4, 4).transpose(0, 3, 1, 2)
    result = viz.grad_cam(model, "last_conv", x, target=targets)
    assert result.shape == (2, 6, 6)
    expected = numpy_grad_cam(activations, gradients, (6, 6))
    assert expected.max() > 0
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-7)


def test_a_keras_functional_model_equals_the_formula():
    from ember import keras as ek
    ek.utils.set_random_seed(0)
    inputs = ek.Input((6, 6, 2))
    features = ek.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    pooled = ek.layers.GlobalAveragePooling2D()(features)
    model = ek.Model(inputs, ek.layers.Dense(3, name="scores")(pooled))
    x, targets = images(shape=(6, 6, 2)), np.array([2, 1])
    activations = viz.feature_maps(model, "conv", x)
    manual = model.get_layer("conv")(ember.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(activations, manual, rtol=1e-6, atol=1e-7)
    # score = kernel[:, t] . (the spatial mean of A) + bias: dA = kernel[c, t] / (4 * 4)
    kernel = model.get_layer("scores").get_weights()[0]
    gradients = np.broadcast_to(kernel[:, targets].T[:, :, None, None] / 16, (2, 4, 4, 4))
    expected = numpy_grad_cam(activations.transpose(0, 3, 1, 2), gradients, (6, 6))
    assert expected.max() > 0
    np.testing.assert_allclose(viz.grad_cam(model, "conv", x, target=targets), expected,
                               rtol=1e-5, atol=1e-7)


def test_equals_the_formula_on_pytorchs_activations_and_gradients():
    torch = pytest.importorskip("torch")
    model = small_net()
    twin = torch_small_net(model)
    x = images(n=2)
    captured = []
    twin.conv2.register_forward_hook(lambda module, args, output: captured.append(output))
    scores = twin(torch.from_numpy(x))
    (gradients,) = torch.autograd.grad(scores[:, 1].sum(), captured[0])
    expected = numpy_grad_cam(captured[0].detach().numpy(), gradients.numpy(), (6, 6))
    np.testing.assert_allclose(viz.grad_cam(model, model.conv2, x, target=1), expected,
                               rtol=1e-5, atol=1e-6)


class Detector(nn.Module):
    """A 2x2 stride-2 averaging convolution, a global mean and two classes: class 0 is "bright",
    class 1 "dark"."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 2, stride=2, bias=False)
        self.fc = nn.Linear(1, 2, bias=False)
        self.load_state_dict({"conv.weight": np.full((1, 1, 2, 2), 0.25, np.float32),
                              "fc.weight": np.array([[1.0], [-1.0]], np.float32)})

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.conv(x), 1).flatten(1))


def test_a_constructed_image_lights_up_where_the_evidence_is():
    x = np.zeros((1, 1, 8, 8), np.float32)
    x[0, 0, :4, :4] = 1.0  # the bright square: all the evidence for class 0
    cam = viz.grad_cam(Detector(), "conv", x, target=0)[0]
    row, column = np.unravel_index(cam.argmax(), cam.shape)
    assert row < 4 and column < 4
    np.testing.assert_allclose(cam[:3, :3], 1 / 16, rtol=1e-6)  # A = 1 there, weight 1/16
    assert np.all(cam[5:, :] == 0) and np.all(cam[:, 5:] == 0)  # (row 4 blends with row 3)
    # class 1 gets negative weights from the same evidence: nothing survives the ReLU
    assert np.all(viz.grad_cam(Detector(), "conv", x, target=1) == 0)


def test_frozen_weights_modes_and_grads_are_left_alone():
    model = small_net()
    model.requires_grad_(False)
    model.train()
    cam = viz.grad_cam(model, "conv2", images())
    assert cam.shape == (2, 6, 6) and np.all(cam >= 0)
    assert model.training and model.drop.training
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())


def test_bad_layers_inputs_and_targets_are_named():
    model, x = small_net(), images()
    with pytest.raises(ValueError, match=r"layer 'fc' \(Linear\) outputs \(2, 3\); Grad-CAM "
                                         r"needs a convolutional layer"):
        viz.grad_cam(model, "fc", x)
    with pytest.raises(ValueError, match=r"x must be a batch of images.*\(2, 72\)"):
        viz.grad_cam(model, "conv2", np.zeros((2, 72)))
    with pytest.raises(ValueError, match=r"target 7 is out of range for a model with 3"):
        viz.grad_cam(model, "conv2", x, target=7)
    with pytest.raises(ValueError, match=r"no layer named 'conv3'"):
        viz.grad_cam(model, "conv3", x)
    keras_model = keras_small_cnn()
    with pytest.raises(ValueError, match=r"layer 'flatten' \(Flatten\) outputs \(2, 64\)"):
        viz.grad_cam(keras_model, "flatten", images(shape=(6, 6, 2)))


def test_plot_grad_cam_of_both_faces(tmp_path):
    need_plotting()
    figure = viz.plot_grad_cam(small_net(), "conv2", images(), path=tmp_path / "t.png")
    assert len(figure.axes) == 4  # per sample: the input and the overlay
    check_png(tmp_path / "t.png", figure_pixels(figure))
    figure = viz.plot_grad_cam(keras_small_cnn(), "last_conv", images(n=1, shape=(6, 6, 2)),
                               path=tmp_path / "k.png", alpha=0.3)
    assert len(figure.axes) == 2
    check_png(tmp_path / "k.png", figure_pixels(figure))
    with pytest.raises(ValueError, match=r"alpha must be a number in \[0, 1\]"):
        viz.plot_grad_cam(small_net(), "conv2", images(), alpha=2)
