"""ember.utils: helpers outside the tensor core (``ember.utils.data`` mirrors torch.utils.data)."""
from . import data

__all__ = ["data"]
