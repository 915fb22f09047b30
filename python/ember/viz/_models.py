"""The models ember.viz looks into, from either face: an ember ``nn.Module`` or a Keras model or
layer (Keras layers are Modules too, so forward hooks, ``modules()`` and ``train()`` serve
both). Layers are found by object, by dotted module path ("features.0") or by Keras name."""
import contextlib
import sys

import numpy as np

import ember
from ..nn import Module


def is_keras(obj) -> bool:
    """True for a Keras-face layer or model, without importing ember.keras when nobody did."""
    layer_module = sys.modules.get("ember.keras.layers.layer")
    return layer_module is not None and isinstance(obj, layer_module.Layer)


def check_model(op, model):
    if not isinstance(model, Module):
        raise TypeError(f"{op}: model must be an ember nn.Module or a Keras model or layer. "
                        f"Received: {type(model).__name__}")


def _named_layers(model):
    """Name -> layer: Keras layers by their names, other modules by dotted path."""
    if is_keras(model):
        named = {}
        for module in model.modules():
            if module is not model and is_keras(module):
                named.setdefault(module.name, module)
        return named
    return {path: module for path, module in model.named_modules() if path}


def find_layer(op, model, layer):
    """``layer`` (an object inside ``model``, or its name) as the layer object."""
    check_model(op, model)
    if isinstance(layer, str):
        named = _named_layers(model)
        if layer in named:
            return named[layer]
        raise ValueError(f"{op}: {type(model).__name__} has no layer named {layer!r}. Its "
                         f"layers are: {', '.join(named) or '(none)'}")
    if isinstance(layer, Module):
        if any(m is layer for m in model.modules()):
            return layer
        raise ValueError(f"{op}: the {type(layer).__name__} layer given is not part of the "
                         f"{type(model).__name__} model")
    raise TypeError(f"{op}: layer must be a layer of the model or its name (a string). "
                    f"Received: {type(layer).__name__}")


def layer_label(model, layer) -> str:
    """How titles and messages name ``layer``: its Keras name or its path in ``model``."""
    if is_keras(layer):
        return layer.name
    path = next((p for p, m in model.named_modules() if m is layer), "")
    return path or type(layer).__name__


@contextlib.contextmanager
def eval_mode(model):
    """Runs the block with ``model`` in eval mode, then gives every submodule back its mode."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, training in modes:  # parents first: each child then sets its own
            module.train(training)


def model_dtype(model):
    """The NumPy dtype inputs are given: the model's first floating parameter's, else float32."""
    for p in model.parameters():
        if p._array.dtype.kind == "f":
            return p._array.dtype
    return np.dtype(np.float32)


def as_input(op, model, x):
    """``x`` (an array, list or Tensor holding a batch) as a fresh leaf Tensor of the model's
    dtype: gradients taken with respect to it never touch the caller's tensor."""
    array = x.detach().numpy() if isinstance(x, ember.Tensor) else np.asarray(x)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{op}: x must hold numbers. Received an array of dtype {array.dtype}")
    if array.ndim < 2:
        raise ValueError(f"{op}: x must be a batch of inputs (N, ...) with at least 2 "
                         f"dimensions. Received shape {array.shape}")
    return ember.from_numpy(np.array(array, dtype=model_dtype(model), order="C"))


def channels_last(model, layer=None) -> bool:
    """Whether ``layer``'s output (or, without a layer, the model's input) puts channels last:
    Keras' data_format, else ``keras.config.image_data_format()``; PyTorch's NCHW otherwise."""
    owner = layer if layer is not None else model
    if not is_keras(owner):
        return False
    data_format = getattr(owner, "data_format", None)
    if data_format is None:
        from ..keras import config
        data_format = config.image_data_format()
    return data_format == "channels_last"


def forward_capturing(op, model, layer, x):
    """``model(x)``, the output of ``layer`` in that call (a forward hook on it) and a NumPy
    copy of that output taken in the hook (before any in-place op after the layer)."""
    captured = []
    handle = layer.register_forward_hook(
        lambda module, args, output: captured.append((output, to_numpy(output))))
    try:
        output = model(x)
    finally:
        handle.remove()
    label = layer_label(model, layer)
    if not captured:
        raise ValueError(f"{op}: layer {label!r} ({type(layer).__name__}) was not called when "
                         "the model ran on x")
    if len(captured) > 1:
        raise ValueError(f"{op}: layer {label!r} ({type(layer).__name__}) was called "
                         f"{len(captured)} times when the model ran on x, so its output is "
                         "ambiguous; pick a layer the model calls once")
    return (output,) + captured[0]


def to_numpy(value):
    """A layer's output as NumPy copies (tuples and lists of tensors keep their structure)."""
    if isinstance(value, ember.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, (tuple, list)):
        return type(value)(to_numpy(v) for v in value)
    return value


def class_score(op, output, target):
    """The summed class scores ``output[i, target_i]`` (a scalar Tensor) and the targets, one
    per sample: ``target`` None takes each sample's highest-scoring class."""
    if not isinstance(output, ember.Tensor) or output.ndim != 2:
        shape = tuple(output.shape) if isinstance(output, ember.Tensor) else type(output).__name__
        raise ValueError(f"{op}: the model's output must be class scores of shape (N, classes). "
                         f"Received: {shape}")
    n, classes = output.shape
    if target is None:
        targets = output.detach().numpy().argmax(axis=1)
    else:
        targets = np.asarray(target.detach().numpy() if isinstance(target, ember.Tensor)
                             else target)
        if targets.dtype.kind not in "iu" or targets.ndim > 1 or (
                targets.ndim == 1 and len(targets) != n):
            raise ValueError(f"{op}: target must be a class index or one per sample ({n}). "
                             f"Received: {target!r}")
        targets = np.broadcast_to(targets, (n,))
        bad = targets[(targets < 0) | (targets >= classes)]
        if bad.size:
            raise ValueError(f"{op}: target {int(bad[0])} is out of range for a model with "
                             f"{classes} classes (output shape {(n, classes)}); targets must "
                             f"be in [0, {classes})")
    one_hot = np.zeros((n, classes), dtype=output.detach().numpy().dtype)
    one_hot[np.arange(n), targets] = 1.0
    return (output * ember.from_numpy(one_hot)).sum(), np.array(targets, dtype=np.int64)
