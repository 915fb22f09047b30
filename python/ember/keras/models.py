"""keras.Model and keras.Sequential on ember Modules; their training methods (compile, fit,
evaluate, predict) are in trainer.py."""
from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

import ember
from . import activations
from .compile_utils import flatten
from .data_adapter import map_data
from .object_registration import custom_object_scope
from .engine import graph, tree
from .engine.input_rank import adjust_rank
from .engine.keras_tensor import is_text
from .export_onnx import export_model
from .layers.activation import Activation
from .layers.batch_normalization import BatchNormalization
from .layers.input_layer import InputLayer, KerasTensor
from .layers.layer import Layer, as_tensor
from .layers import call_context, tensor_masks
from .optimizer_params import optimizer_params
from .layers.relu import ReLU
from .trainer import Trainer
from .training_losses import probe_call


class Model(Trainer, Layer):
    """Keras Model: ``keras.Model(inputs, outputs)`` (a Functional, see functional.py),
    Sequential, or a subclass that defines ``call``. A model may take and return one tensor, or
    a flat list, tuple or dict of them (see compile_utils.py)."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(Functional, *args, **kwargs)  # as in Keras
        return super().__new__(cls, *args, **kwargs)  # (Layer.__new__ records the config)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError(
                f"{type(self).__name__}: a Model subclass passing inputs and outputs to "
                "Model.__init__ is not supported by ember. Build keras.Model(inputs, outputs) "
                "directly, or define call() in the subclass.")
        super().__init__(name=kwargs.pop("name", None), trainable=kwargs.pop("trainable", True),
                         **kwargs)
        self._init_trainer()
        self._build_input_shape = None  # recorded for saving: the file can rebuild the model

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Keras 3's signature: ``custom_objects`` names the custom classes the config uses."""
        with custom_object_scope(custom_objects):
            if cls is Model and "input_layers" in config:  # a functional config, as in Keras
                return Functional.from_config(config)
            return super().from_config(config)

    # ---- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[layer.name for layer in self.layers]}.")

    def _check_input(self, x: np.ndarray):
        """Sequential checks x against its declared input shape."""

    def _layer_output_shape(self, layer):
        return None

    def _record_input_shape(self, input_shape):
        if self._build_input_shape is None:
            if isinstance(input_shape, (dict, list)) or (
                    input_shape and isinstance(input_shape[0], (tuple, list))):
                self._build_input_shape = map_data(lambda s: (None,) + tuple(s[1:]),
                                                   input_shape)
            else:
                self._build_input_shape = (None,) + tuple(input_shape[1:])

    def _maybe_build(self, input_shape):
        self._record_input_shape(input_shape)
        if not self.built:  # (a first call builds the sublayers itself: no probe)
            if type(self).build is not Model.build:
                self.build(input_shape if isinstance(input_shape, (dict, list)) or (
                    input_shape and isinstance(input_shape[0], (tuple, list)))
                    else tuple(input_shape))
            self.built = True

    def build(self, input_shape=None):
        """Keras: a subclassed model without its own build() builds by running call() once,
        here on a batch of one of ``input_shape`` (None axes taken as 1)."""
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        self._record_input_shape(input_shape)
        if type(self).build is Model.build and not self.built:
            self.built = True
            probe_call(self, input_shape)
        self.built = True

    def forward(self, inputs, *args, **kwargs):
        if isinstance(inputs, (list, tuple, dict)) and all(
                isinstance(v, (ember.Tensor, np.ndarray)) for v in flatten(inputs)):
            # Several inputs: call() gets the structure; build() the structure of shapes.
            inputs = map_data(as_tensor, inputs)
            if not self.built:
                self._maybe_build(map_data(lambda t: tuple(t.shape), inputs))
            return self._call_in_context(inputs, args, kwargs)
        return super().forward(inputs, *args, **kwargs)

    # ---- saving (see saving.py) --------------------------------------------------------------
    def save(self, filepath, overwrite=True, **kwargs):
        """Saves architecture, weights, compile configuration and optimizer state to a
        ``.keras`` zip (Keras 3's format), a legacy ``.h5`` file or an ``.ember`` file."""
        _saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs):
        """Keras 3's Model.export; ember writes format="onnx" (see export_onnx.py)."""
        export_model(self, filepath, format, verbose, input_signature, **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Saves all weights, in Keras order, to a ``.weights.h5`` (Keras' layout) or
        ``.weights.ember`` file."""
        _saving.save_weights(self, filepath, overwrite=overwrite, max_shard_size=max_shard_size)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Loads weights saved by ``save_weights`` (or from a ``.keras``, ``.h5`` or ``.ember``
        model file)."""
        _saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    # ---- summary -----------------------------------------------------------------------------
    _summary_width, _summary_positions, _summary_extra_header = 65, [0.45, 0.85, 1.0], []

    def _summary_rows(self, layer):
        """The table rows of one layer (Functional adds its "Connected to" column)."""
        shape = self._layer_output_shape(layer)
        params = layer.count_params() if layer.built else 0
        return [[f"{layer.name} ({type(layer).__name__})", "?" if shape is None else str(shape),
                 params]]

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints a Keras-style table of the layers, output shapes and parameter counts
        (``show_trainable``: a last column, Y/N for layers with weights, "-" for others)."""
        if not self.built:
            raise ValueError("This model has not yet been built. Build the model first by "
                             "calling `build()` or by calling the model on a batch of data.")
        for name, value in (("expand_nested", expand_nested), ("layer_range", layer_range)):
            if value:
                raise NotImplementedError(f"summary: {name} is not supported by ember")
        print_fn = print_fn or print
        width = line_length or self._summary_width + (12 if show_trainable else 0)
        cols = positions or self._summary_positions
        if show_trainable:  # Keras narrows the other columns to make room
            cols = [p * 0.9 for p in cols] + [1.0]
        stops = [int(width * p) if p <= 1 else int(p) for p in cols]

        def row(fields):
            # Each field is cut to leave at least one space before the next column.
            line = ""
            for field, stop in zip(fields, stops):
                line = (line + str(field))[:stop - 1].ljust(stop)
            return line.rstrip()

        lines = [f'Model: "{self.name}"', "_" * width,
                 row(["Layer (type)", "Output Shape", "Param #"] + self._summary_extra_header
                     + (["Trainable"] if show_trainable else [])), "=" * width]
        for i, layer in enumerate(self.layers):
            rows = self._summary_rows(layer)
            if show_trainable:
                mark = ("Y" if layer.trainable else "N") if layer.weights else "-"
                rows = [fields + [mark if j == 0 else ""] for j, fields in enumerate(rows)]
            lines += [row(fields) for fields in rows]
            lines.append("" if i < len(self.layers) - 1 else "=" * width)
        if not self.layers:
            lines.append("=" * width)
        total = sum(int(np.prod(w.shape)) for w in self.weights)
        trainable = sum(int(np.prod(w.shape)) for w in self.trainable_weights)
        optimizer = optimizer_params(self)  # (Keras counts them in the total too)
        opt_count, opt_bytes = optimizer or (0, 0)
        lines += [f"Total params: {_params_text(total + opt_count, 4 * total + opt_bytes)}",
                  f"Trainable params: {_params_text(trainable)}",
                  f"Non-trainable params: {_params_text(total - trainable)}"]
        if optimizer:
            lines.append(f"Optimizer params: {_params_text(opt_count, opt_bytes)}")
        lines.append("_" * width)
        for line in lines:
            print_fn(line)


def _params_text(count: int, size: int | None = None) -> str:
    size = count * 4 if size is None else size  # (bytes: float32 weights)
    for unit, scale in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("KB", 1024)):
        if size >= scale:
            return f"{count:,} ({size / scale:.2f} {unit})"
    return f"{count:,} ({size:.2f} B)"


def _accepts_argument(layer, name: str) -> bool:
    return name in _call_parameters(type(layer))


@functools.lru_cache(maxsize=None)
def _call_parameters(layer_type) -> frozenset:
    """The parameter names of a layer class's call(); inspect.signature is far too slow to ask
    on every batch, and the answer is the class's."""
    try:
        return frozenset(inspect.signature(layer_type.call).parameters)
    except (TypeError, ValueError):
        return frozenset()


def _accepts_training(layer) -> bool:
    return _accepts_argument(layer, "training")


# Keras 3 layers whose results depend on the mask; ember's versions ignore it.
_MASK_CONSUMERS = ("BatchNormalization", "GlobalAveragePooling1D")


def _fuses_with_relu(layer, next_layer) -> bool:
    """Whether a built BatchNormalization followed by a plain ReLU (ReLU() or
    Activation("relu")) may run as one kernel pass: neither has hooks, so nothing could observe
    the normalization's own output."""
    if type(layer) is not BatchNormalization or not layer.built \
            or layer.activity_regularizer is not None:
        return False
    if type(next_layer) is ReLU:
        plain = (next_layer.max_value is None and next_layer.negative_slope == 0.0
                 and next_layer.threshold == 0.0)
    else:
        plain = type(next_layer) is Activation and next_layer.activation is activations.relu
    return plain and not (layer._forward_hooks or layer._forward_pre_hooks
                          or next_layer._forward_hooks or next_layer._forward_pre_hooks)


def _plain_call(layer, x) -> bool:
    """Whether layer(x) would be layer.call(x) and nothing more: one of ember's own layers,
    built and called before, with no hooks, no activity regularizer and no Keras masks in play
    (the call context then has nothing to do; a batch-1 predict spent a tenth of its time in it)."""
    signature = layer.__dict__.get("_call_signature")
    return (signature is not None and not signature.user_class and type(x) is ember.Tensor
            and signature.training_default is None
            and layer.__dict__.get("built") and not tensor_masks.masks
            and layer.__dict__.get("activity_regularizer") is None
            and not layer._forward_hooks and not layer._forward_pre_hooks)


def _output_mask(layer, inputs, mask):
    """The mask after ``layer`` (Keras 3 rules): the layer's compute_mask if it has one, the
    input mask for layers that support masking, else none (Keras warns that the mask is
    dropped)."""
    if getattr(type(layer), "compute_mask", None) is not None:  # (on the class: no __getattr__)
        return layer.compute_mask(inputs, mask)
    if mask is None:
        return None
    kind = type(layer).__name__
    if kind in _MASK_CONSUMERS:
        raise NotImplementedError(
            f"{kind} '{layer.name}' received a mask (from Embedding(mask_zero=True)); Keras "
            "would use it in this layer, ember's does not support masks. Put a recurrent "
            "layer before it, or use mask_zero=False.")
    if getattr(layer, "supports_masking", False):
        return mask
    warnings.warn(f"Layer '{layer.name}' (of type {kind}) was passed an input with a mask "
                  "attached to it. However, this layer does not support masking and will "
                  "therefore destroy the mask information. Downstream layers will not see the "
                  "mask.")
    return None


class Sequential(graph.GraphIO, Model):
    """A linear stack of layers: ``Sequential([Dense(64, activation="relu",
    input_shape=(4,)), Dense(3, activation="softmax")])``."""

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self._layers = []
        self._output_shapes = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    @property
    def layers(self):
        return [layer for layer in self._layers if not isinstance(layer, InputLayer)]

    @property
    def input_shape(self):
        if self._layers and isinstance(self._layers[0], InputLayer):
            return self._layers[0].batch_shape
        return None

    def add(self, layer, rebuild=True):
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise ValueError("Only instances of `keras.Layer` can be added to a Sequential "
                             f"model. Received: {layer!r} (of type {type(layer).__name__})")
        if isinstance(layer, InputLayer) and self._layers:
            raise ValueError(f"Sequential model '{self.name}' has already been configured to "
                             "use an input; an InputLayer can only be its first layer.")
        if not self._layers and not isinstance(layer, InputLayer) \
                and layer._input_shape_arg is not None:
            self._register(InputLayer(shape=layer._input_shape_arg,
                                      batch_size=layer._batch_size_arg))
        if any(existing.name == layer.name for existing in self._layers):
            raise ValueError("All layers added to a Sequential model should have unique names. "
                             f"Name '{layer.name}' is already the name of a layer in this model.")
        self._register(layer)
        if rebuild:
            self._maybe_rebuild()

    def _register(self, layer):
        self._layers.append(layer)
        self.add_module(layer.name, layer)
        self.built = False
        self._output_shapes = None

    def pop(self, rebuild=True):
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        delattr(self, layer.name)
        self.built = False
        self._output_shapes = None
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        if self.input_shape is not None:
            self.build(self.input_shape)

    def build(self, input_shape=None):
        """Creates every layer's weights for inputs of ``input_shape`` (batch axis first)."""
        if input_shape is None:
            input_shape = self.input_shape
            if input_shape is None:
                raise ValueError("You must provide an `input_shape` argument.")
        input_shape = tuple(input_shape)
        if self.input_shape is None:
            self._layers.insert(0, InputLayer(batch_shape=input_shape))
        self._record_input_shape(input_shape)
        if all(d is not None for d in input_shape[1:]):
            probe = ember.zeros(*((1,) + input_shape[1:]))
            if self._layers[0].input_dtype == "string":
                probe = np.full((1,) + input_shape[1:], "", dtype=np.str_)
            was_training = self.training
            self.eval()
            try:
                with ember.no_grad(), call_context.inference():
                    self._run_layers(probe, None, record=True)
            finally:
                self.train(was_training)
        self._build_graph()
        self.built = True

    def forward(self, inputs, *args, **kwargs):
        if is_text(inputs):  # strings go to the first (text) layer as NumPy
            self._maybe_build(tuple(inputs.shape))
            return self._call_in_context(inputs, args, kwargs)
        return Layer.forward(self, inputs, *args, **kwargs)  # (no structure check per call)

    def _check_structured_input(self, x):
        raise ValueError(f'Sequential model "{self.name}" takes one input array; received x as '
                         f"a {type(x).__name__} of {len(x)} arrays. Subclass keras.Model for "
                         "several inputs.")

    def _build_graph(self):
        """As Keras 3: the layers called on the InputLayer's KerasTensor, so each layer has its
        input/output and the model its inputs/outputs (the feature-extraction idiom)."""
        x = self._layers[0].output
        shapes = {}
        for layer in self._layers[1:]:
            x = layer(x)
            shapes[layer.name] = graph.unpack_singleton([t.shape for t in tree.flatten(x)])
        self.__dict__.update(_inputs_struct=self._layers[0].output, _outputs_struct=x)
        if self._output_shapes is None:
            self._output_shapes = shapes

    def _check_input(self, x):
        """``x`` checked against the input shape (and its rank adjusted, as Keras does)."""
        shape = self.input_shape
        if shape is None:
            return x
        expected = shape[1:]
        if x.shape[1:] == expected:  # (the common case, at C speed)
            return x
        x = adjust_rank(x, shape)
        if len(x.shape) - 1 != len(expected) or any(
                e is not None and e != d for e, d in zip(expected, x.shape[1:])):
            raise ValueError(f'Input 0 of layer "{self.name}" is incompatible with the layer: '
                             f"expected shape={shape}, found shape={tuple(x.shape)}")
        return x

    def _run_layers(self, x, training, record):
        shapes = {} if record else None
        # Keras masking (Embedding(mask_zero=True) -> recurrent layers), from the input's mask
        mask = tensor_masks.get_mask(x) if tensor_masks.masks else None
        layers, fused = self._layers, False
        for i, layer in enumerate(layers):
            if fused:  # a ReLU computed by the layer before it
                fused = False
                continue
            if isinstance(layer, InputLayer):
                continue
            if (not record and mask is None and i + 1 < len(layers)
                    and _fuses_with_relu(layer, layers[i + 1])):
                # The same result, one pass less (neither layer makes a mask).
                x = (layer.call_fused_relu(x) if training is None
                     else layer.call_fused_relu(x, training=training))
                fused = True
                continue
            inputs = x
            if training is None and mask is None:  # (the common call, without a kwargs dict)
                x = layer.call(x) if _plain_call(layer, x) else layer(x)
            else:
                kwargs = {}
                if training is not None and _accepts_training(layer):
                    kwargs["training"] = training
                if mask is not None and _accepts_argument(layer, "mask"):
                    kwargs["mask"] = mask
                x = layer(x, **kwargs)
            if mask is not None or getattr(type(layer), "compute_mask", None) is not None:
                mask = _output_mask(layer, inputs, mask)
            if record:
                shapes[layer.name] = (None,) + tuple(x.shape[1:])
        if record:
            self._output_shapes = shapes
        self.__dict__["_output_mask"] = mask  # (a plain attribute; Module.__setattr__ is slow)
        if mask is not None:
            tensor_masks.set_mask(x, mask)
        return x

    def call(self, inputs, training=None):
        inputs = self._check_input(inputs)
        return self._run_layers(inputs, training, record=self._output_shapes is None)

    def _maybe_build(self, input_shape):
        if self._build_input_shape is None:  # (inlined: this runs on every call)
            self._record_input_shape(input_shape)
        if not self.built:
            self.built = True  # the layers build themselves on this first call

    def _layer_output_shape(self, layer):
        return None if self._output_shapes is None else self._output_shapes.get(layer.name)

    def get_config(self):
        """Keras 3's form: each layer (the InputLayer first, if any) as {"class_name", "config"},
        plus the input shape the model was built with."""
        config = {"name": self.name, "trainable": self.trainable,
                  "layers": [_saving.serialize_layer(layer) for layer in self._layers]}
        if self._build_input_shape is not None:
            config["build_input_shape"] = self._build_input_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model ``get_config()`` describes; layer classes come from ember's Keras layers,
        registered classes and ``custom_objects`` (see keras.saving)."""
        with custom_object_scope(custom_objects):
            return cls._from_config(config)

    @classmethod
    def _from_config(cls, config):
        model = cls(layers=[_saving.deserialize_layer(spec) for spec in config["layers"]],
                    trainable=config.get("trainable", True), name=config.get("name"))
        shape = config.get("build_input_shape")
        if not model.built and shape is not None:
            model.build(shape)
        return model


# saving.py imports this module lazily; keras.models.load_model / save_model as in Keras.
from . import saving as _saving  # noqa: E402
from .saving import load_model, save_model  # noqa: E402
from .functional import Functional  # noqa: E402  (a Model subclass: Model.__new__ returns it)
from .cloning import clone_model  # noqa: E402
