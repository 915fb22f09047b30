"""keras.datasets: readers for datasets already on disk (ember never downloads)."""
from . import mnist

__all__ = ["mnist"]
