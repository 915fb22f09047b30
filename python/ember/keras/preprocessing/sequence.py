"""keras.preprocessing.sequence: ``pad_sequences`` (see keras/sequence_utils.py)."""
from ..sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
