"""Keras preprocessing layers: image rescaling, normalization, resizing and cropping; the
random augmentation layers (active unless called with training=False, as predict does); and
the NumPy-side categorical and text layers (lookups, category encoding, text vectorization)."""
from .category_encoding import CategoryEncoding
from .hashing import Hashing
from .integer_lookup import IntegerLookup
from .normalization import Normalization
from .random_color import RandomBrightness, RandomContrast
from .random_geometry import RandomFlip, RandomRotation, RandomTranslation, RandomZoom
from .rescaling import Rescaling
from .resizing import CenterCrop, Resizing
from .string_lookup import StringLookup
from .text_vectorization import TextVectorization

__all__ = ["CategoryEncoding", "CenterCrop", "Hashing", "IntegerLookup", "Normalization",
           "RandomBrightness", "RandomContrast", "RandomFlip", "RandomRotation",
           "RandomTranslation", "RandomZoom", "Rescaling", "Resizing", "StringLookup",
           "TextVectorization"]
