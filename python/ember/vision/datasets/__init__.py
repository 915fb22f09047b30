"""torchvision.datasets: MNIST-family, CIFAR and folder datasets read from files under root
(ember downloads nothing; download=True with the files absent says where to put them)."""
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder, default_loader
from .mnist import EMNIST, KMNIST, MNIST, FashionMNIST
from .vision import StandardTransform, VisionDataset

__all__ = ["CIFAR10", "CIFAR100", "DatasetFolder", "EMNIST", "FakeData", "FashionMNIST",
           "ImageFolder", "KMNIST", "MNIST", "StandardTransform", "VisionDataset", "default_loader"]
