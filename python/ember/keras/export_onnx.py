"""Model.export(filepath, format="onnx") for the Keras face, as Keras 3 does it on the torch
backend: the input signature from the model's inputs (None sizes become dynamic axes named
"batch" for axis 0 and "dim_<input>_<axis>" otherwise, sampled as 1), input names from the
signature, and the graph written by ember.onnx.export. ember's Keras layers run channels_last,
so the file's inputs and outputs keep Keras' layout."""
from __future__ import annotations

import numpy as np

import ember
from ..nn.module import Module

FORMATS = ("tf_saved_model", "onnx", "openvino", "litert", "torch")


def export_model(model, filepath, format="tf_saved_model", verbose=None, input_signature=None,
                 **kwargs):
    if format not in FORMATS:
        raise ValueError(f"Unrecognized format={format}. Supported formats are: "
                         f"{list(FORMATS)}.")
    if format != "onnx":
        raise NotImplementedError(f"Model.export: format={format!r} is not supported by ember; "
                                  "it exports format='onnx'")
    opset_version = kwargs.pop("opset_version", None)
    if kwargs:
        raise TypeError(f"Model.export: unexpected keyword arguments {sorted(kwargs)} for "
                        "format='onnx'")
    specs = _input_signature(model) if input_signature is None else _flat(input_signature)
    names = [getattr(spec, "name", None) or f"input_{i}" for i, spec in enumerate(specs)]
    dynamic_axes, samples = {}, []
    for i, spec in enumerate(specs):
        shape = tuple(None if d is None else int(d) for d in spec.shape)
        dims = {axis: "batch" if axis == 0 else f"dim_{i}_{axis}"
                for axis, d in enumerate(shape) if d is None}
        if dims:
            dynamic_axes[names[i]] = dims
        samples.append(_sample(tuple(1 if d is None else d for d in shape), spec.dtype))
    from ..onnx import export as onnx_export  # ember.onnx needs the optional onnx package
    onnx_export(_Call(model, len(specs)), tuple(samples), filepath, input_names=names,
                opset_version=opset_version, dynamic_axes=dynamic_axes or None,
                external_data=False)  # one file, as Keras writes it
    if verbose is None or verbose:
        print(f"Saved artifact at '{filepath}'.")


def _input_signature(model):
    if not model.built:
        raise ValueError("The model provided has not yet been built. It must be built before "
                         "export.")
    try:
        return list(model.inputs)
    except (ValueError, AttributeError):
        pass
    shapes = getattr(model, "_build_input_shape", None)
    if shapes is None:
        raise ValueError("The model provided has never called. It must be called at least once "
                         "before export.")
    if isinstance(shapes, dict):
        shapes = list(shapes.values())
    elif not (shapes and isinstance(shapes[0], (list, tuple))):
        shapes = [shapes]  # one input
    return [_Spec(tuple(s)) for s in shapes]


class _Spec:
    def __init__(self, shape, dtype="float32", name=None):
        self.shape, self.dtype, self.name = shape, dtype, name


def _flat(signature):
    items = list(signature) if isinstance(signature, (list, tuple)) else [signature]
    if len(items) == 1 and isinstance(items[0], (list, tuple)) and items[0] and \
            hasattr(items[0][0], "shape"):
        items = list(items[0])
    return items


def _sample(shape, dtype):
    """An example input (Keras samples ones; only the graph comes from it): floats in [0.5, 1.5)
    and integer ids 0 and 1, varied so that ember.onnx.export's twin run with other values
    sees any result that depends on them."""
    dtype = np.dtype(str(getattr(dtype, "name", dtype) or "float32"))
    n = int(np.prod(shape))
    if dtype.kind in "iu":
        return ember.tensor((np.arange(n) % 2).reshape(shape).astype(dtype))
    return ember.tensor((0.5 + (np.arange(n) * 0.618) % 1.0).reshape(shape).astype(dtype))


class _Call(Module):
    """Calls the Keras model with the flat tensors ONNX sees as inputs, in inference mode."""

    def __init__(self, model, count):
        super().__init__()
        self.model = model
        self.count = count

    def forward(self, *inputs):
        x = inputs[0] if self.count == 1 else list(inputs)
        return self.model(x, training=False)
