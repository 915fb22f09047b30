"""The ONNX operators ember.onnx.load runs, one module per family; importing them fills OPS."""
from . import (activation, arithmetic, conv, index, norm, pad, pool, rnn, shape,  # noqa: F401
               tensors)
from .registry import OPS  # noqa: F401
from .tensors import constant_value  # noqa: F401
