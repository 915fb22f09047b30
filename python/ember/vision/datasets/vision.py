"""VisionDataset: the root, the transforms and the printout every torchvision dataset shares."""
import os

from ...utils.data import Dataset


class StandardTransform:
    """transform applied to the input, target_transform to the target."""

    def __init__(self, transform=None, target_transform=None):
        self.transform = transform
        self.target_transform = target_transform

    def __call__(self, input, target):
        if self.transform is not None:
            input = self.transform(input)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return input, target

    def __repr__(self):
        body = [self.__class__.__name__]
        if self.transform is not None:
            body.append(f"Transform: {self.transform!r}")
        if self.target_transform is not None:
            body.append(f"Target transform: {self.target_transform!r}")
        return "\n".join(body)


class VisionDataset(Dataset):
    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        if isinstance(root, str):
            root = os.path.expanduser(root)
        self.root = root
        has_transforms = transforms is not None
        has_separate = transform is not None or target_transform is not None
        if has_transforms and has_separate:
            raise ValueError("Only transforms or transform/target_transform can be passed as "
                             "argument")
        self.transform = transform
        self.target_transform = target_transform
        if has_separate:
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def apply_transforms(self, sample, target):
        """transform on the sample, target_transform on the target: read at each call, so
        setting dataset.transform later takes effect, as in torchvision."""
        return StandardTransform(self.transform, self.target_transform)(sample, target)

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self):
        raise NotImplementedError

    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"Number of datapoints: {self.__len__()}"]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines += self.extra_repr().splitlines()
        if self.transforms is not None:
            lines += repr(self.transforms).splitlines()
        body = [" " * self._repr_indent + line for line in lines]
        return "\n".join(["Dataset " + self.__class__.__name__] + body)


def dataset_not_found(name, folder, files, download):
    """The error for absent files: ember never downloads, so it says where the files go."""
    listing = "\n".join(f"  {f}" for f in files)
    why = ("ember cannot download datasets (download=True was given)" if download
           else "Dataset not found")
    return RuntimeError(f"{name}: {why}. Put these files in {folder}:\n{listing}")
