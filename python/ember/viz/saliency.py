"""saliency / plot_saliency: the gradient of a class score with respect to the input pixels
(Simonyan et al., 2014, "Deep Inside Convolutional Networks")."""
import numpy as np

import ember
from ._figure import display_image, finish, new_figure, show_image
from ._models import as_input, channels_last, check_model, class_score, eval_mode


def _saliency(op, model, x, target):
    """(saliency maps, targets, the input as NumPy)."""
    check_model(op, model)
    x = as_input(op, model, x).requires_grad_()
    with eval_mode(model), ember.enable_grad():
        score, targets = class_score(op, model(x), target)
        (gradient,) = ember.autograd.grad(score, x)  # (leaves every parameter's .grad alone)
    maps = np.abs(gradient.numpy())
    if maps.ndim >= 3:  # an image or sequence: the largest magnitude over its channels
        maps = maps.max(axis=-1 if channels_last(model) else 1)
    return maps, targets, x.detach().numpy()


def saliency(model, x, target=None):
    """|d score_target / d x|: how strongly each input element moves the class score.

    ``model``: an ember nn.Module or a Keras model, returning class scores (N, classes) (the
    scores it returns, e.g. logits or log-probabilities). ``x``: a batch. ``target``: the class
    (an int, or one per sample); None takes each sample's highest-scoring class. The model
    runs in eval mode (its modes are restored after) and no parameter's ``.grad`` changes.
    Returns NumPy (N, H, W) for images (the maximum over channels: NCHW in the PyTorch face,
    NHWC in the Keras face), (N, L) for sequences, or x's shape for flat inputs.
    """
    return _saliency("saliency", model, x, target)[0]


def plot_saliency(model, x, target=None, path=None):
    """Each sample of ``x`` beside its saliency map (a row per sample; pass a few images).
    Writes a PNG to ``path`` when given; returns the matplotlib Figure."""
    op = "plot_saliency"
    maps, targets, inputs = _saliency(op, model, x, target)
    if maps.ndim != 3:
        raise ValueError(f"{op}: draws image inputs, (N, C, H, W) or (N, H, W, C) in the "
                         f"Keras face. Received x of shape {inputs.shape}")
    channel_axis = -1 if channels_last(model) else 0
    figure = new_figure(op, 5.0, 2.5 * len(maps))
    for i, (saliency_map, t) in enumerate(zip(maps, targets)):
        show_image(figure.add_subplot(len(maps), 2, 2 * i + 1),
                   display_image(inputs[i], channel_axis), f"input {i}")
        axes = figure.add_subplot(len(maps), 2, 2 * i + 2)
        drawn = axes.imshow(saliency_map, cmap="hot", interpolation="nearest")
        axes.set_title(f"saliency for class {t}", fontsize=9)
        axes.set_xticks([])
        axes.set_yticks([])
        figure.colorbar(drawn, ax=axes)
    return finish(figure, path)
