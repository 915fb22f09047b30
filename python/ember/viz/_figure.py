"""matplotlib, imported on first use, and the figure plumbing every plot shares.

Figures are made with ``matplotlib.figure.Figure`` and drawn by the Agg canvas, never through
pyplot: nothing here selects or changes the user's backend (a script with a display keeps
its own), no window opens, and pyplot's list of open figures does not grow with every plot.
"""
import math
import os

import numpy as np

DPI = 100  # the size of a written PNG is figsize x DPI pixels


def require_matplotlib(feature):
    """``matplotlib``, or an ImportError naming ``feature`` and the extra that installs it."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401  (the submodules used below)
        import matplotlib.backends.backend_agg  # noqa: F401
    except ImportError as error:
        raise ImportError(f'{feature} needs matplotlib: pip install "ember[viz]"') from error
    return matplotlib


def new_figure(feature, width, height):
    """An empty Figure of ``width`` x ``height`` inches on its own Agg canvas."""
    matplotlib = require_matplotlib(feature)
    figure = matplotlib.figure.Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    matplotlib.backends.backend_agg.FigureCanvasAgg(figure)
    return figure


def finish(figure, path):
    """Writes ``figure`` to ``path`` (PNG unless the name ends in another format matplotlib
    writes) when a path is given; returns the Figure either way."""
    if path is not None:
        figure.savefig(os.fspath(path), dpi=DPI)
    return figure


def grid_columns(count):
    """The columns of a near-square grid holding ``count`` tiles."""
    return max(1, math.ceil(math.sqrt(count)))


def panel_grid(count, columns=3):
    """(rows, columns) of ``count`` plot panels, ``columns`` to a row."""
    return math.ceil(count / columns), min(count, columns)


def normalize(array):
    """``array`` scaled to [0, 1] (all zeros when it is constant): each map its own contrast."""
    array = np.asarray(array, dtype=np.float64)
    low, high = np.nanmin(array), np.nanmax(array)
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        return np.zeros_like(array)
    return (array - low) / (high - low)


def mosaic(tiles, columns):
    """Tiles (n, h, w) laid out ``columns`` to a row with a one-pixel NaN gap between them
    (NaN shows as the colour map's "bad" colour): one image, so hundreds of filters draw
    as fast as one."""
    n, h, w = tiles.shape
    rows = math.ceil(n / columns)
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        out[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = tile
    return out


def colormap(name, bad="white"):
    """A matplotlib colour map by name, drawing NaN (the mosaic gaps) in ``bad``."""
    import matplotlib
    return matplotlib.colormaps[name].with_extremes(bad=bad)


def mosaic_figure(feature, image, cmap, inches_per_pixel):
    """A Figure drawing one mosaic, pixels as squares, at most 8 inches a side."""
    scale = min(8.0 / image.shape[1], 8.0 / image.shape[0], inches_per_pixel)
    figure = new_figure(feature, max(3.0, image.shape[1] * scale),
                        max(1.5, image.shape[0] * scale) + 0.4)  # (+ the title)
    axes = figure.add_subplot(1, 1, 1)
    axes.imshow(image, cmap=colormap(cmap), vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    return figure, axes


def display_image(sample, channel_axis):
    """One input sample as an image matplotlib shows: (H, W) grey, or (H, W, 3) RGB for three
    channels, each scaled to [0, 1]; other channel counts show their mean."""
    sample = np.asarray(sample, dtype=np.float64)
    if sample.ndim == 3:
        sample = np.moveaxis(sample, channel_axis, -1)
        if sample.shape[-1] == 3:
            return normalize(sample)
        sample = sample.mean(axis=-1)
    return normalize(sample)


def show_image(axes, image, title):
    """Draws a display_image result (grey or RGB) without ticks."""
    grey = dict(cmap="gray", vmin=0.0, vmax=1.0) if image.ndim == 2 else {}
    axes.imshow(image, interpolation="nearest", **grey)
    axes.set_title(title, fontsize=9)
    axes.set_xticks([])
    axes.set_yticks([])
