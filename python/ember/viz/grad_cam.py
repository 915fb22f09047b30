"""grad_cam / plot_grad_cam: where a convolutional layer found the evidence for a class
(Selvaraju et al., 2017, "Grad-CAM: Visual Explanations from Deep Networks")."""
import numpy as np

import ember
from ..nn import functional as F
from ._figure import display_image, finish, new_figure, normalize, show_image
from ._models import (as_input, channels_last, class_score, eval_mode, find_layer,
                      forward_capturing, layer_label)


def activations_and_gradients(op, model, layer, x, target):
    """The layer's activations A and d score_target / dA, both (N, C, h, w) NumPy whatever the
    face's layout, and the targets. ``x`` is a Tensor (as_input)."""
    x.requires_grad_()  # so the graph reaches the layer even when every weight is frozen
    with eval_mode(model), ember.enable_grad():
        output, activations, _ = forward_capturing(op, model, layer, x)
        if not isinstance(activations, ember.Tensor) or activations.ndim != 4:
            shape = (tuple(activations.shape) if isinstance(activations, ember.Tensor)
                     else f"{type(activations).__name__} of tensors")
            raise ValueError(f"{op}: layer {layer_label(model, layer)!r} "
                             f"({type(layer).__name__}) outputs {shape}; Grad-CAM needs a "
                             "convolutional layer whose output is (N, C, H, W) ((N, H, W, C) "
                             "for a channels_last Keras layer)")
        score, targets = class_score(op, output, target)
        (gradients,) = ember.autograd.grad(score, activations)
    a, g = activations.detach().numpy(), gradients.numpy()
    if channels_last(model, layer):
        a, g = a.transpose(0, 3, 1, 2), g.transpose(0, 3, 1, 2)
    return np.array(a, copy=True), g, targets


def cam_from(activations, gradients, size):
    """Grad-CAM from (N, C, h, w) activations and gradients: ReLU(sum_k alpha_k A_k) with
    alpha_k the spatial mean of the gradient of channel k, bilinearly resized to ``size``
    (PyTorch's interpolate, align_corners=False). Returns (N, *size)."""
    weights = gradients.mean(axis=(2, 3), keepdims=True)
    cam = np.maximum((weights * activations).sum(axis=1), 0.0)
    resized = F.interpolate(ember.from_numpy(np.ascontiguousarray(cam[:, None])),
                            size=tuple(size), mode="bilinear", align_corners=False)
    return resized.numpy()[:, 0]


def _grad_cam(op, model, conv_layer, x, target):
    layer = find_layer(op, model, conv_layer)
    x = as_input(op, model, x)
    if x.ndim != 4:
        raise ValueError(f"{op}: x must be a batch of images, (N, C, H, W) (or (N, H, W, C) in "
                         f"the Keras face). Received shape {tuple(x.shape)}")
    activations, gradients, targets = activations_and_gradients(op, model, layer, x, target)
    size = x.shape[1:3] if channels_last(model) else x.shape[2:]
    return cam_from(activations, gradients, size), targets, x.detach().numpy(), layer


def grad_cam(model, conv_layer, x, target=None):
    """The Grad-CAM heat map of ``conv_layer`` (the layer, its dotted path or Keras name) for
    class ``target`` (an int, or one per sample; None: each sample's highest-scoring class).

    The weights are the spatial means of the gradient of the class score with respect to the
    layer's activations; the map is the ReLU of the weighted sum of the activation channels,
    bilinearly upsampled to the input's height and width. ``x`` is a batch of images (NCHW in
    the PyTorch face, NHWC in the Keras face). The model runs in eval mode (its modes are
    restored after) and no parameter's ``.grad`` changes. Returns NumPy (N, H, W), not
    normalized.
    """
    return _grad_cam("grad_cam", model, conv_layer, x, target)[0]


def plot_grad_cam(model, conv_layer, x, target=None, path=None, *, alpha=0.5):
    """Each sample of ``x`` beside its Grad-CAM heat map (scaled to [0, 1]) laid over it with
    opacity ``alpha`` (a row per sample; pass a few images). Writes a PNG to ``path`` when
    given; returns the matplotlib Figure."""
    op = "plot_grad_cam"
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 <= alpha <= 1:
        raise ValueError(f"{op}: alpha must be a number in [0, 1]. Received: alpha={alpha!r}")
    cams, targets, inputs, layer = _grad_cam(op, model, conv_layer, x, target)
    channel_axis = -1 if channels_last(model) else 0
    figure = new_figure(op, 5.0, 2.5 * len(cams))
    for i, (cam, t) in enumerate(zip(cams, targets)):
        image = display_image(inputs[i], channel_axis)
        show_image(figure.add_subplot(len(cams), 2, 2 * i + 1), image, f"input {i}")
        axes = figure.add_subplot(len(cams), 2, 2 * i + 2)
        show_image(axes, image, f"Grad-CAM {layer_label(model, layer)}, class {t}")
        axes.imshow(normalize(cam), cmap="jet", alpha=alpha, vmin=0.0, vmax=1.0,
                    interpolation="bilinear")
    return finish(figure, path)
