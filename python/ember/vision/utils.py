"""torchvision.utils: make_grid tiles a batch of images; save_image writes it as a PNG."""
import math

import numpy as np

from .. import autograd
from ..creation import from_numpy
from ..tensor import Tensor
from ._pillow import pil_image_module


def _batch_array(tensor):
    """The images as a float/int (B, C, H, W) array with 1-channel images made RGB."""
    if isinstance(tensor, (list, tuple)):
        if not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("make_grid: tensor should be of type ember.Tensor or a list of them")
        tensors = list(tensor)
    elif isinstance(tensor, Tensor):
        tensors = [tensor]
    else:
        raise TypeError(f"make_grid: tensor should be of type ember.Tensor. Got {type(tensor)}")
    if any(t.requires_grad for t in tensors) and autograd.is_grad_enabled():
        raise NotImplementedError("make_grid: ember's make_grid is not differentiable; the "
                                  "tensor requires grad (call .detach() first)")
    array = (np.stack([t._array for t in tensors]) if isinstance(tensor, (list, tuple))
             else tensor._array)
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        if array.shape[0] == 1:
            array = np.concatenate([array] * 3, axis=0)
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected images of shape (B, C, H, W), (C, H, W) or (H, W),"
                         f" got shape {tuple(array.shape)}")
    if array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    return array


def _normalized(array, value_range):
    """Clamps to value_range (default: the array's min and max) and maps it onto [0, 1]."""
    low, high = value_range if value_range is not None else (float(array.min()),
                                                             float(array.max()))
    array = np.clip(array, low, high)
    return ((array - array.dtype.type(low)) / array.dtype.type(max(high - low, 1e-5))).astype(
        array.dtype, copy=False)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0):
    """A (C, H', W') grid of the images, nrow per row, `padding` pixels of pad_value apart."""
    array = _batch_array(tensor)
    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                            "are numbers")
        if scale_each is True:
            array = np.stack([_normalized(image, value_range) for image in array])
        else:
            array = _normalized(array, value_range)
    else:
        array = array.copy()
    if array.shape[0] == 1:
        return from_numpy(np.ascontiguousarray(array[0]))
    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = int(math.ceil(float(count) / columns))
    cell_h, cell_w = height + padding, width + padding
    grid = np.full((channels, cell_h * rows + padding, cell_w * columns + padding), pad_value,
                   dtype=array.dtype)
    for k in range(count):
        y, x = divmod(k, columns)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + height, left:left + width] = array[k]
    return from_numpy(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Writes make_grid(tensor, **kwargs) as an image file (PNG unless fp or format says
    otherwise); values in [0, 1] map to 0..255."""
    with autograd.no_grad():
        if isinstance(tensor, Tensor):
            tensor = tensor.detach()
        elif isinstance(tensor, (list, tuple)):
            tensor = [t.detach() if isinstance(t, Tensor) else t for t in tensor]
        grid = make_grid(tensor, **kwargs).numpy()
    pixels = np.clip(grid * 255 + 0.5, 0, 255).transpose(1, 2, 0).astype(np.uint8)
    image_module = pil_image_module("ember.vision.utils.save_image")
    image_module.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
