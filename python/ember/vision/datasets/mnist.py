"""MNIST, FashionMNIST, KMNIST and EMNIST from their IDX files under root/<ClassName>/raw/."""
import os
import string
import warnings

import numpy as np

from ...creation import from_numpy
from ...datasets.mnist import read_idx
from .._pillow import pil_image_module
from .vision import VisionDataset, dataset_not_found


def _existing(folder, name):
    """The file itself or its gzipped copy, whichever is there (None if neither)."""
    for candidate in (os.path.join(folder, name), os.path.join(folder, name + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    return None


def _renamed(old, new):
    """torchvision's deprecated alias (old tutorials read train_data): warns, gives `new`."""
    def get(self):
        warnings.warn(f"{old} has been renamed {new}", UserWarning, stacklevel=2)
        return getattr(self, new)
    return property(get)


class MNIST(VisionDataset):
    """Items are (PIL image of mode "L", int label); data (N, 28, 28) uint8 and targets (N,)
    int64 are tensors, as in torchvision."""

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        name = type(self).__name__
        found = [_existing(self.raw_folder, f) for f in self._files(bool(train))]
        if None in found:
            files = [f + "[.gz]" for split in (True, False) for f in self._files(split)]
            raise dataset_not_found(name, self.raw_folder, files, download)
        images = read_idx(found[0], "images", op=name)
        labels = read_idx(found[1], "labels", op=name)
        if len(images) != len(labels):
            raise ValueError(f"{name}: {found[0]} holds {len(images)} images but {found[1]} "
                             f"holds {len(labels)} labels")
        if labels.size and labels.max() >= len(self.classes):
            raise ValueError(f"{name}: {found[1]} holds label {int(labels.max())}; labels are "
                             f"0..{len(self.classes) - 1}")
        self.data = from_numpy(np.array(images))
        self.targets = from_numpy(labels.astype(np.int64))

    train_data, test_data = _renamed("train_data", "data"), _renamed("test_data", "data")
    train_labels = _renamed("train_labels", "targets")
    test_labels = _renamed("test_labels", "targets")

    def _file_prefix(self, train):
        return "train" if train else "t10k"

    def _files(self, train):
        """The (images, labels) file names of the training or the test split."""
        prefix = self._file_prefix(train)
        return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index):
        image = pil_image_module(type(self).__name__).fromarray(self.data[index].numpy(),
                                                                mode="L")
        target = int(self.targets[index])
        return self.apply_transforms(image, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class FashionMNIST(MNIST):
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


_LETTERS_AND_DIGITS = set(string.digits + string.ascii_letters)
# Letters whose upper and lower case look alike; the bymerge and balanced splits merge them.
_MERGED = set("cijklmopsuvwxyz")


class EMNIST(MNIST):
    """EMNIST(root, split, train=True, ...) from emnist-<split>-<train|test>-*-ubyte files. The
    images are stored transposed; like torchvision, ember returns them as stored."""

    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    classes_split_dict = {
        "byclass": sorted(_LETTERS_AND_DIGITS),
        "bymerge": sorted(_LETTERS_AND_DIGITS - _MERGED),
        "balanced": sorted(_LETTERS_AND_DIGITS - _MERGED),
        "letters": ["N/A"] + list(string.ascii_lowercase),
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split, **kwargs):
        if split not in self.splits:
            raise ValueError(f"Unknown value '{split}' for argument split. Valid values are "
                             f"{{{', '.join(repr(s) for s in self.splits)}}}.")
        self.split = split
        self.classes = self.classes_split_dict[split]
        super().__init__(root, **kwargs)

    def _file_prefix(self, train):
        return f"emnist-{self.split}-{'train' if train else 'test'}"
