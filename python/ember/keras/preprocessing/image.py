"""keras.preprocessing.image: Keras 3's aliases of the keras.utils image functions."""
from ..utils_image import array_to_img, img_to_array, load_img, save_img

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]
