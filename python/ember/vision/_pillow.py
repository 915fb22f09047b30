"""Pillow, imported on first use: ember.vision works on tensors without it."""


def pil_image_module(feature):
    """``PIL.Image``, or an ImportError naming ``feature`` and the extra that installs it."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(f'{feature} needs Pillow: pip install "ember[vision]"') from error
    return Image


def is_pil_image(obj):
    """True for a PIL image, without importing Pillow when the caller never loaded it."""
    import sys
    pil = sys.modules.get("PIL.Image")
    return pil is not None and isinstance(obj, pil.Image)
