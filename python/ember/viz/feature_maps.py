"""feature_maps / plot_feature_maps: what any layer outputs for an input."""
import numpy as np

import ember
from ..nn.modules.utils import _is_int
from ._figure import finish, grid_columns, mosaic, mosaic_figure, new_figure, normalize
from ._models import (as_input, channels_last, eval_mode, find_layer, forward_capturing,
                      layer_label)


def feature_maps(model, layer, x):
    """The output of ``layer`` (the object, its dotted path in an nn.Module or its Keras name)
    when ``model`` runs on the batch ``x``, as NumPy (a tuple of arrays for a layer that
    returns several tensors). The model runs in eval mode, without gradients; its modes are
    restored after. Shapes are the layer's own: (N, C, H, W) in the PyTorch face,
    (N, H, W, C) for a channels_last Keras layer."""
    op = "feature_maps"
    layer = find_layer(op, model, layer)
    x = as_input(op, model, x)
    with eval_mode(model), ember.no_grad():
        return forward_capturing(op, model, layer, x)[2]


def plot_feature_maps(model, layer, x, path=None, *, sample=0):
    """The feature maps of ``layer`` for sample ``sample`` of ``x``: one image per channel
    (each scaled to its own range) for a 2-D feature map, one image (channels x positions) for
    a 1-D one, bars for a feature vector. Writes a PNG to ``path`` when given; returns the
    matplotlib Figure."""
    op = "plot_feature_maps"
    layer = find_layer(op, model, layer)
    activations = feature_maps(model, layer, x)
    if not isinstance(activations, np.ndarray):
        raise ValueError(f"{op}: layer {layer_label(model, layer)!r} returns "
                         f"{len(activations)} tensors; plot_feature_maps draws a layer with "
                         "one output")
    if not _is_int(sample) or not 0 <= sample < activations.shape[0]:
        raise ValueError(f"{op}: sample must be an index into the batch of "
                         f"{activations.shape[0]}. Received: sample={sample!r}")
    maps = activations[sample]
    last = channels_last(model, layer)
    title = f"{layer_label(model, layer)}: output {tuple(activations.shape[1:])}"
    if maps.ndim == 3:  # channels of a 2-D map: one tile each
        maps = np.moveaxis(maps, -1, 0) if last else maps
        columns = grid_columns(len(maps))
        tiles = np.stack([normalize(m) for m in maps])
        figure, axes = mosaic_figure(op, mosaic(tiles, columns), "viridis", inches_per_pixel=0.4)
    elif maps.ndim == 2:  # a sequence: channels x positions
        maps = maps.T if last else maps
        figure = new_figure(op, 6.0, 3.0)
        axes = figure.add_subplot(1, 1, 1)
        drawn = axes.imshow(maps, aspect="auto", cmap="viridis", interpolation="nearest")
        axes.set_xlabel("position")
        axes.set_ylabel("channel")
        figure.colorbar(drawn, ax=axes)
    elif maps.ndim == 1:
        figure = new_figure(op, 6.0, 3.0)
        axes = figure.add_subplot(1, 1, 1)
        axes.bar(np.arange(len(maps)), maps)
        axes.set_xlabel("feature")
    else:
        raise ValueError(f"{op}: cannot draw an output of shape {activations.shape}; "
                         "plot_feature_maps draws (N, C, H, W), (N, C, L) and (N, features) "
                         "outputs (channels last in the Keras face)")
    axes.set_title(title, fontsize=9)
    return finish(figure, path)
