"""torchvision.transforms: PIL-image and tensor-image transforms (randomness from ember's
default generator, so ember.manual_seed makes them reproducible)."""
from . import functional
from .affine import RandomAffine
from .blur import GaussianBlur
from .color import ColorJitter, Grayscale, RandomGrayscale
from .compose import Compose, Lambda
from .conversion import ConvertImageDtype, Normalize, PILToTensor, ToPILImage, ToTensor
from .crop import CenterCrop, RandomCrop, RandomResizedCrop
from .erasing import RandomErasing
from .flip import RandomHorizontalFlip, RandomVerticalFlip
from .interpolation import InterpolationMode
from .multi_crop import FiveCrop, TenCrop
from .pad import Pad
from .photometric import (RandomAdjustSharpness, RandomAutocontrast, RandomInvert,
                          RandomPosterize, RandomSolarize)
from .random_choice import RandomApply, RandomChoice, RandomOrder
from .resize import Resize
from .rotation import RandomRotation

__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "FiveCrop", "GaussianBlur",
           "Grayscale", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
           "RandomAdjustSharpness", "RandomAffine", "RandomApply", "RandomAutocontrast",
           "RandomChoice", "RandomCrop", "RandomErasing", "RandomGrayscale",
           "RandomHorizontalFlip", "RandomInvert", "RandomOrder", "RandomPosterize",
           "RandomResizedCrop", "RandomRotation", "RandomSolarize", "RandomVerticalFlip", "Resize",
           "TenCrop", "ToPILImage", "ToTensor", "functional", "v2"]

from . import v2  # noqa: E402  (last: v2 re-exports the transforms above)
