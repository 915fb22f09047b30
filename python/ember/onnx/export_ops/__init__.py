"""ONNX emitters for the ops ember.onnx.export records, one module per op family. Each module's
EMITTERS maps a recorded kind (a Function class, or "rnn_layer") to emit(graph)."""
from . import (activation, attention, conv, elementwise, linear, norm, pad, pool, reduce, repeat,
               resample, rnn, shape)

EMITTERS = {}
for _family in (activation, attention, conv, elementwise, linear, norm, pad, pool, reduce, repeat,
                resample, rnn, shape):
    EMITTERS.update(_family.EMITTERS)
