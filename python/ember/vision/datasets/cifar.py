"""CIFAR10 and CIFAR100 from the python-version batches (cifar-10-batches-py/,
cifar-100-python/ under root), read with a restricted unpickler."""
import os

import numpy as np

from .._pillow import pil_image_module
from .restricted_pickle import load_restricted
from .vision import VisionDataset, dataset_not_found

_PIXELS = 3 * 32 * 32


class CIFAR10(VisionDataset):
    """Items are (PIL RGB image, int label); data is an (N, 32, 32, 3) uint8 ndarray and
    targets a list of ints, as in torchvision. File checksums are not verified."""

    base_folder = "cifar-10-batches-py"
    train_list = ["data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                  "data_batch_5"]
    test_list = ["test_batch"]
    meta = {"filename": "batches.meta", "key": "label_names"}
    _labels_key = "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        name = type(self).__name__
        folder = os.path.join(self.root, self.base_folder)
        needed = self.train_list + self.test_list + [self.meta["filename"]]
        if not all(os.path.isfile(os.path.join(folder, f)) for f in needed):
            raise dataset_not_found(name, folder, needed, download)
        batches, self.targets = [], []
        for file_name in self.train_list if train else self.test_list:
            path = os.path.join(folder, file_name)
            images, labels = self._read_batch(path, name)
            batches.append(images)
            self.targets.extend(labels)
        self.data = np.vstack(batches).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))
        meta = load_restricted(os.path.join(folder, self.meta["filename"]), name)
        if not isinstance(meta, dict) or self.meta["key"] not in meta:
            raise ValueError(f"{name}: {self.meta['filename']} holds no "
                             f"{self.meta['key']!r} list")
        self.classes = list(meta[self.meta["key"]])
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _read_batch(self, path, name):
        entry = load_restricted(path, name)
        images = entry.get("data") if isinstance(entry, dict) else None
        labels = entry.get(self._labels_key) if isinstance(entry, dict) else None
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or \
                images.ndim != 2 or images.shape[1] != _PIXELS:
            raise ValueError(f"{name}: {path} holds no (N, {_PIXELS}) uint8 'data' array")
        if not isinstance(labels, list) or len(labels) != len(images) or not all(
                isinstance(label, int) for label in labels):
            raise ValueError(f"{name}: {path} holds no list of {len(images)} int "
                             f"{self._labels_key!r}")
        return images, labels

    def __getitem__(self, index):
        image = pil_image_module(type(self).__name__).fromarray(self.data[index])
        target = self.targets[index]
        return self.apply_transforms(image, target)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    base_folder = "cifar-100-python"
    train_list = ["train"]
    test_list = ["test"]
    meta = {"filename": "meta", "key": "fine_label_names"}
    _labels_key = "fine_labels"
