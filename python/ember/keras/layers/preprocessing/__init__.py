"""Keras preprocessing layers: image rescaling, normalization, resizing and cropping, and the
random augmentation layers that act only while training."""
from .normalization import Normalization
from .random_color import RandomBrightness, RandomContrast
from .random_geometry import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from .rescaling import Rescaling
from .resizing import CenterCrop, Resizing

__all__ = ["CenterCrop", "Normalization", "RandomBrightness", "RandomContrast", "RandomFlip",
           "RandomRotation", "RandomTranslation", "RandomZoom", "Rescaling", "Resizing"]
