"""ember.vision: a torchvision-compatible subset, so ``import ember.vision as torchvision`` is
the only change a torchvision script needs (transforms, datasets, io, utils,
models).

``import ember`` never imports this package; Pillow, which decodes and encodes images, is an
optional extra (``pip install "ember[vision]"``) imported only where images are handled.
"""
from . import datasets, io, models, transforms, utils

__all__ = ["datasets", "io", "models", "transforms", "utils"]
