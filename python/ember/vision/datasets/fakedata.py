"""FakeData: random images, the same ones for an index every time (for dry runs and tests)."""
import numpy as np

from ...creation import from_numpy
from ..transforms.functional_conversion import to_pil_image
from .vision import VisionDataset


class FakeData(VisionDataset):
    """Items are (PIL image made from normal noise, int label), drawn from a generator seeded
    with index + random_offset, as torchvision does; the values differ from torchvision's
    (ember's generator is not torch's)."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{self.__class__.__name__} index out of range")
        rng = np.random.default_rng(index + self.random_offset)
        image = from_numpy(rng.standard_normal(self.image_size, dtype=np.float32))
        target = int(rng.integers(0, self.num_classes))
        return self.apply_transforms(to_pil_image(image), target)

    def __len__(self):
        return self.size
