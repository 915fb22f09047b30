"""Datasets: the digits shipped inside ember, and readers for MNIST files you already have."""

from .digits import load_digits
from .mnist import load_mnist

__all__ = ["load_digits", "load_mnist"]
