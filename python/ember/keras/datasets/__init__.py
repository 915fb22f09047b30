"""keras.datasets: readers for datasets already in Keras' cache (ember never downloads)."""
from . import (boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb,
               mnist, reuters)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
