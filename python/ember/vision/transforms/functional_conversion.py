"""Images to tensors and back, dtype conversion and normalization, as torchvision does them."""
import sys

import numpy as np

from ...autograd import is_grad_enabled
from ...creation import tensor as _new_tensor
from ...dtypes import float32, to_numpy_dtype
from ...tensor import Tensor
from .._pillow import is_pil_image, pil_image_module
from ._image import tensor_array, to_tensor_image

# Pillow modes whose pixels are not bytes (torchvision's table); every other mode is uint8.
_MODE_TO_NPTYPE = {"I": np.int32, "I;16" if sys.byteorder == "little" else "I;16B": np.int16,
                   "F": np.float32}


def to_tensor(pic):
    """A PIL image or an H x W x C ndarray as a C x H x W tensor; uint8 becomes float32 in
    [0, 1], other dtypes are kept."""
    if not (is_pil_image(pic) or isinstance(pic, np.ndarray)):
        raise TypeError(f"to_tensor: pic should be PIL Image or ndarray. Got {type(pic)}")
    if isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_tensor: pic should be 2/3 dimensional. Got {pic.ndim} "
                             "dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        array = np.array(pic, _MODE_TO_NPTYPE.get(pic.mode, np.uint8), copy=True)
        if pic.mode == "1":
            array = 255 * array
        array = array.reshape(pic.height, pic.width, len(pic.getbands()))
    array = array.transpose(2, 0, 1)
    if array.dtype == np.uint8:
        return to_tensor_image(array.astype(np.float32) / np.float32(255))
    return to_tensor_image(array)


def pil_to_tensor(pic):
    """A PIL image as a C x H x W tensor of its own dtype, values unscaled."""
    if not is_pil_image(pic):
        raise TypeError(f"pil_to_tensor: pic should be PIL Image. Got {type(pic)}")
    array = np.array(pic, copy=True)
    if array.dtype == np.bool_:
        array = array.astype(np.uint8)
    return to_tensor_image(array.reshape(pic.height, pic.width, -1).transpose(2, 0, 1))


_MODES_BY_CHANNELS = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}
_SINGLE_CHANNEL_MODES = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16",
                         np.dtype(np.int32): "I", np.dtype(np.float32): "F"}


def to_pil_image(pic, mode=None):
    """A C x H x W tensor or H x W x C ndarray as a PIL image; float tensors are scaled by 255
    (unless mode is "F")."""
    if isinstance(pic, Tensor):
        array = tensor_array(pic, "to_pil_image")
        if array.ndim not in (2, 3):
            raise ValueError(f"to_pil_image: pic should be 2/3 dimensional. Got {array.ndim} "
                             "dimensions.")
        array = array[None] if array.ndim == 2 else array
        if array.shape[0] > 4:
            raise ValueError(f"to_pil_image: pic should not have > 4 channels. Got "
                             f"{array.shape[0]} channels.")
        if array.dtype.kind == "f" and mode != "F":
            array = (array * 255).astype(np.uint8)  # truncates, as Tensor.byte() does
        array = array.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"to_pil_image: pic should be 2/3 dimensional. Got {pic.ndim} "
                             "dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        if array.shape[-1] > 4:
            raise ValueError(f"to_pil_image: pic should not have > 4 channels. Got "
                             f"{array.shape[-1]} channels.")
    else:
        raise TypeError(f"to_pil_image: pic should be Tensor or ndarray. Got {type(pic)}.")
    image_module = pil_image_module("ember.vision.transforms.to_pil_image")
    if array.shape[2] == 1:
        array = array[:, :, 0]
        expected = _SINGLE_CHANNEL_MODES.get(array.dtype)
        if mode is not None and mode != expected:
            raise ValueError(f"to_pil_image: Incorrect mode ({mode}) supplied for input type "
                             f"{array.dtype}. Should be {expected}")
        mode = expected
        if mode == "I;16":
            array = array.astype(np.uint16)  # Pillow stores I;16 as unsigned 16-bit
    else:
        permitted = _MODES_BY_CHANNELS[array.shape[2]]
        if mode is not None and mode not in permitted:
            raise ValueError(f"to_pil_image: Only modes {permitted} are supported for "
                             f"{array.shape[2]}D inputs")
        if mode is None and array.dtype == np.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"to_pil_image: Input type {array.dtype} is not supported")
    return image_module.fromarray(np.ascontiguousarray(array), mode=mode)


def _max_value(np_dtype):
    return 1.0 if np_dtype.kind == "f" else int(np.iinfo(np_dtype).max)


def convert_image_dtype(image, dtype=float32):
    """Converts a tensor image to `dtype`, rescaling values to the new dtype's range (floats
    in [0, 1], integers in [0, max])."""
    if not isinstance(image, Tensor):
        raise TypeError(f"convert_image_dtype: Input img should be Tensor Image. Got "
                        f"{type(image)}")
    array = tensor_array(image, "convert_image_dtype", min_ndim=0)
    source, target = array.dtype, to_numpy_dtype(dtype)
    if source == target:
        return image
    if source.kind == "f":
        if target.kind == "f":
            return to_tensor_image(array.astype(target))
        if (source, target) in ((np.float32, np.int32), (np.float32, np.int64),
                                (np.float64, np.int64)):
            raise RuntimeError(f"convert_image_dtype: The cast from {source} to {target} "
                               "cannot be performed safely.")
        # Just below max + 1 so that 1.0 maps to max while [0, 1) splits evenly.
        eps = 1e-3
        scaled = array * (_max_value(target) + 1.0 - eps)
        return to_tensor_image(scaled.astype(target))
    source_max = _max_value(source)
    if target.kind == "f":
        return to_tensor_image(array.astype(target) / target.type(source_max))
    target_max = _max_value(target)
    if source_max > target_max:
        factor = (source_max + 1) // (target_max + 1)
        return to_tensor_image((array // factor).astype(target))
    factor = (target_max + 1) // (source_max + 1)
    return to_tensor_image(array.astype(target) * target.type(factor))


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel of a float tensor image (..., C, H, W).

    Differentiable (ember ops) unless inplace=True, which rewrites the tensor's data."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"normalize: img should be Tensor Image. Got {type(tensor)}")
    if not tensor.is_floating_point():
        raise TypeError(f"normalize: Input tensor should be a float tensor. Got "
                        f"{tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError(f"normalize: Expected tensor to be a tensor image of size (..., C, H, "
                         f"W). Got tensor.size() = {tuple(tensor.shape)}")
    dtype = tensor._array.dtype
    mean_array = np.asarray(mean, dtype=dtype).reshape(-1)
    std_array = np.asarray(std, dtype=dtype).reshape(-1)
    channels = tensor.shape[-3]
    for name, values in (("mean", mean_array), ("std", std_array)):
        if values.size not in (1, channels):
            raise ValueError(f"normalize: {name} has {values.size} values for a tensor of "
                             f"shape {tuple(tensor.shape)} with {channels} channels")
    if (std_array == 0).any():
        raise ValueError(f"normalize: std evaluated to zero after conversion to {dtype}, "
                         "leading to division by zero.")
    mean_array, std_array = mean_array.reshape(-1, 1, 1), std_array.reshape(-1, 1, 1)
    if inplace:
        array = tensor_array(tensor, "normalize(inplace=True)", min_ndim=3)
        np.subtract(array, mean_array, out=array)
        np.divide(array, std_array, out=array)
        return tensor
    if tensor.requires_grad and is_grad_enabled():
        return (tensor - _new_tensor(mean_array, dtype=tensor.dtype)) / _new_tensor(
            std_array, dtype=tensor.dtype)
    # Data loading: the same float arithmetic in NumPy, without building autograd tensors.
    return to_tensor_image((tensor._array - mean_array) / std_array)
