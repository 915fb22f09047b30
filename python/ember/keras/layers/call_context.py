"""The Keras 3 call context: what an outer layer call tells the layers it calls.

The outermost ``layer(...)`` opens the context (and clears the losses its layers added in
earlier calls); every layer call resolves ``training`` as Keras does - the value passed
explicitly, else the context's, else the call signature's default - and stores it in the
context for the layers called after it; the outermost call closes the context.
"""
from __future__ import annotations

import contextlib
import inspect
import threading

class CallContext:
    """What the active outermost call shares with the calls inside it; ``entry_layer`` is
    None between outermost calls (the object is reused: one per thread)."""

    __slots__ = ("entry_layer", "training")

    def __init__(self):
        self.entry_layer = None
        self.training = None


class _State(threading.local):
    def __init__(self):
        self.context = CallContext()
        self.inference = 0  # > 0 inside inference(): predict and evaluate


@contextlib.contextmanager
def inference():
    """Layer calls inside run as Keras' predict/evaluate call the model, with training=False:
    a layer whose call() defaults to training=True (the augmentation layers) does not use that
    default here."""
    state.inference += 1
    try:
        yield
    finally:
        state.inference -= 1


state = _State()  # state.context: this thread's CallContext


class CallSignature:
    """What Layer.__call__ needs to know of a class's ``call`` (computed once per class)."""

    __slots__ = ("has_training", "training_default", "training_position", "has_mask",
                 "computes_mask", "user_class")

    def __init__(self, layer_type, call):
        try:
            params = inspect.signature(call).parameters
        except (TypeError, ValueError):
            params = {}
        self.has_training = "training" in params
        # The index of `training` among the positional arguments after (self, inputs).
        positional = [n for n, p in params.items() if p.kind in (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        self.training_position = (positional.index("training") - 2
                                  if "training" in positional[2:] else None)
        default = params["training"].default if self.has_training else None
        self.training_default = None if default is inspect.Parameter.empty else default
        self.has_mask = "mask" in params
        self.computes_mask = getattr(layer_type, "compute_mask", None) is not None
        # (ember's own layers read their training mode themselves when training is None)
        self.user_class = not layer_type.__module__.startswith("ember.")


def signature_of(layer_type) -> CallSignature:
    """The CallSignature of ``layer_type.call``, cached on the class."""
    cached = layer_type.__dict__.get("_keras_call_signature")
    if cached is None or cached[0] is not layer_type.call:
        cached = (layer_type.call, CallSignature(layer_type, layer_type.call))
        setattr(layer_type, "_keras_call_signature", cached)
    return cached[1]
