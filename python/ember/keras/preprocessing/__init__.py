"""keras.preprocessing: the ``sequence`` utilities (``pad_sequences``), as in Keras 3."""
from . import sequence

__all__ = ["sequence"]
