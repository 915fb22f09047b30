"""plot_filters: the kernels of a 2-D convolution as a grid of small images."""
import numpy as np

import ember
from ..nn import Conv2d, Module
from ..nn.modules.utils import _is_int
from ._figure import finish, grid_columns, mosaic, mosaic_figure, normalize
from ._models import is_keras

_OP = "plot_filters"
_LAYOUTS = ("OIHW", "HWIO")


def conv_weight(layer_or_weight, layout=None):
    """The kernel as a NumPy array (filters, in_channels, kH, kW) and a name for the title:
    a Conv2d's ``weight`` (PyTorch's OIHW), a Keras Conv2D's kernel (Keras' HWIO), or a 4-D
    weight in ``layout`` ("OIHW", the default, or "HWIO" for a Keras kernel array)."""
    if isinstance(layer_or_weight, Module):
        if layout is not None:
            raise ValueError(f"{_OP}: layout is for a weight array; a layer knows its own "
                             f"layout. Received: layout={layout!r} with a "
                             f"{type(layer_or_weight).__name__}")
        return _layer_kernel(layer_or_weight)
    layout = "OIHW" if layout is None else layout
    if layout not in _LAYOUTS:
        raise ValueError(f"{_OP}: layout must be 'OIHW' (PyTorch) or 'HWIO' (Keras). "
                         f"Received: {layout!r}")
    weight = layer_or_weight
    array = weight.detach().numpy() if isinstance(weight, ember.Tensor) else np.asarray(weight)
    if array.ndim != 4 or array.dtype.kind not in "fiu":
        raise ValueError(f"{_OP}: a convolution weight must be a 4-D array of numbers "
                         f"({layout}). Received: shape {array.shape}, dtype {array.dtype}")
    if layout == "HWIO":
        array = array.transpose(3, 2, 0, 1)
    return np.asarray(array, dtype=np.float64), "weight"


def _layer_kernel(layer):
    kind = type(layer).__name__
    if is_keras(layer):
        from ..keras.layers.conv import Conv2D  # (ember.keras is loaded: the layer is one)
        if isinstance(layer, Conv2D):
            if not layer.built:
                raise ValueError(f"{_OP}: Conv2D layer '{layer.name}' has no kernel yet: call "
                                 "the model (or build it) first")
            # get_weights: the kernel in Keras' layout (kH, kW, in, filters)
            return layer.get_weights()[0].transpose(3, 2, 0, 1).astype(np.float64), layer.name
    elif isinstance(layer, Conv2d):
        return layer.weight.detach().numpy().astype(np.float64), kind
    raise TypeError(f"{_OP}: {kind} is not a 2-D convolution; pass an nn.Conv2d or "
                    "keras.layers.Conv2D layer, or a 4-D convolution weight")


def filter_tiles(weight, channels="mean"):
    """The images to draw, each filter scaled to [0, 1] on its own: (filters, kH, kW) for
    ``channels="mean"`` (the mean over input channels) or an input channel's index, and
    (filters, in_channels, kH, kW) for ``channels="all"``."""
    out_channels, in_channels = weight.shape[:2]
    if channels == "mean":
        chosen = weight.mean(axis=1)
    elif channels == "all":
        chosen = weight
    elif _is_int(channels) and 0 <= channels < in_channels:
        chosen = weight[:, int(channels)]
    else:
        raise ValueError(f"{_OP}: channels must be 'mean', 'all' or an input channel index in "
                         f"[0, {in_channels}). Received: channels={channels!r} for a weight "
                         f"of shape {weight.shape} (OIHW)")
    return np.stack([normalize(f) for f in chosen])


def plot_filters(layer_or_weight, path=None, *, channels="mean", layout=None):
    """The filters of a 2-D convolution as a grid of images, each filter normalized to its own
    range (dark: its most negative weight, light: its most positive).

    ``layer_or_weight``: an ``nn.Conv2d``, a ``keras.layers.Conv2D`` or a 4-D weight (``layout``
    "OIHW" as PyTorch stores it, or "HWIO" as Keras' ``get_weights()`` gives it).
    ``channels``: "mean" (one image per filter, averaged over its input channels), "all" (a row
    per filter, a column per input channel) or an input channel's index. Writes a PNG to
    ``path`` when given; returns the matplotlib Figure.
    """
    weight, name = conv_weight(layer_or_weight, layout)
    tiles = filter_tiles(weight, channels)
    out_channels, in_channels, kh, kw = weight.shape
    if channels == "all":
        columns = in_channels
        tiles = tiles.reshape(-1, kh, kw)
        what = f"{in_channels} input channel{'s' * (in_channels != 1)} per row"
    else:
        columns = grid_columns(out_channels)
        what = "mean over input channels" if channels == "mean" else f"input channel {channels}"
    figure, axes = mosaic_figure(_OP, mosaic(tiles, columns), "gray", inches_per_pixel=0.5)
    axes.set_title(f"{name}: {out_channels} filters {kh}x{kw} ({what})", fontsize=9)
    return finish(figure, path)
