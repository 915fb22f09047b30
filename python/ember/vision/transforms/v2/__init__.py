"""torchvision.transforms.v2: the same transforms as ember.vision.transforms plus ToImage,
ToDtype and ToPureTensor. Each transform takes one image (PIL image or tensor); v2's calls on
several inputs at once (image, boxes, labels) are not supported: they raise TypeError."""
from ... import transforms as _v1  # (v1 has defined every transform when it imports v2)
from .conversion import ToDtype, ToImage, ToPureTensor

_SHARED = [name for name in _v1.__all__ if name not in ("ToTensor", "v2")]
globals().update({name: getattr(_v1, name) for name in _SHARED})
__all__ = sorted(_SHARED + ["ToDtype", "ToImage", "ToPureTensor"])
