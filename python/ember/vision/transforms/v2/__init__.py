"""torchvision.transforms.v2: the same transforms as ember.vision.transforms plus ToImage,
ToDtype and ToPureTensor. Each transform takes one image (PIL image or tensor); v2's calls on
several inputs at once (image, boxes, labels) are not supported: they raise TypeError."""
from .. import functional
from ..affine import RandomAffine
from ..blur import GaussianBlur
from ..color import ColorJitter, Grayscale, RandomGrayscale
from ..compose import Compose, Lambda
from ..conversion import ConvertImageDtype, Normalize, PILToTensor, ToPILImage
from ..crop import CenterCrop, RandomCrop, RandomResizedCrop
from ..erasing import RandomErasing
from ..flip import RandomHorizontalFlip, RandomVerticalFlip
from ..interpolation import InterpolationMode
from ..multi_crop import FiveCrop, TenCrop
from ..pad import Pad
from ..photometric import (RandomAdjustSharpness, RandomAutocontrast, RandomInvert,
                           RandomPosterize, RandomSolarize)
from ..random_choice import RandomApply, RandomChoice, RandomOrder
from ..resize import Resize
from ..rotation import RandomRotation
from .conversion import ToDtype, ToImage, ToPureTensor

__all__ = ["CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "FiveCrop", "GaussianBlur",
           "Grayscale", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
           "RandomAdjustSharpness", "RandomAffine", "RandomApply", "RandomAutocontrast",
           "RandomChoice", "RandomCrop", "RandomErasing", "RandomGrayscale",
           "RandomHorizontalFlip", "RandomInvert", "RandomOrder", "RandomPosterize",
           "RandomResizedCrop", "RandomRotation", "RandomSolarize", "RandomVerticalFlip", "Resize",
           "TenCrop", "ToDtype", "ToImage", "ToPILImage", "ToPureTensor", "functional"]
