"""keras.layers.Layer: an ember.nn.Module with Keras' lazy ``build``, names and weight API."""
from __future__ import annotations

import functools
import inspect
import numbers
import re
import weakref

import numpy as np

import ember
from ..._bounds import check_alloc, spend_parameter
from ...nn import Module, Parameter
from .. import constraints, initializers, regularizers
from ..engine.keras_tensor import KerasTensor, is_text
from ..engine.node import NodeAttributes
from ..engine.symbolic_call import has_keras_tensor, symbolic_call
from . import call_context, tensor_masks, tracking
from .variable import KerasVariable, check_variable_args

_name_counts: dict = {}


def _snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()  # Keras: Conv2D -> conv2d


def unique_name(prefix: str) -> str:
    """Keras naming: the first "dense", then "dense_1", "dense_2", ..."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_names() -> None:
    _name_counts.clear()


_holding_losses = weakref.WeakSet()  # layers whose _losses is not empty
_regularized_weights = weakref.WeakSet()  # weights with a regularizer (anywhere)
_AUTO_CONFIG_TYPES = (str, int, float, bool, type(None))


def auto_config(cls, args, kwargs):
    """Keras 3's auto config: the arguments of ``cls(*args, **kwargs)`` with defaults
    applied (name left out), when all are plain values (str, numbers, bools, None, nested in
    lists/tuples/dicts); else None."""
    if cls.__init__ is object.__init__:
        return None
    try:
        signature = inspect.signature(cls.__init__)
        bound = signature.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None
    bound.apply_defaults()
    config = {}
    for param_name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[param_name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            config.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None
        elif kind is inspect.Parameter.POSITIONAL_ONLY:
            return None
        else:
            config[param_name] = value
    config.pop("name", None)

    def plain(value):
        if isinstance(value, (list, tuple)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(plain(v) for v in value.values())
        return isinstance(value, _AUTO_CONFIG_TYPES)

    return config if plain(config) else None


def weight_options_config(layer, *weights) -> dict:
    """The ``<weight>_regularizer`` and ``<weight>_constraint`` config entries (Keras: all
    regularizers first, then the constraints)."""
    config = {f"{w}_regularizer": regularizers.serialize(getattr(layer, f"{w}_regularizer"))
              for w in weights}
    config.update({f"{w}_constraint": constraints.serialize(getattr(layer, f"{w}_constraint"))
                   for w in weights})
    return config


def as_tensor(x):
    """Layer inputs may be ember Tensors or array-likes (converted to float32 like Keras)."""
    if isinstance(x, ember.Tensor):
        return x
    if is_text(x):
        raise TypeError(f"ember Tensors hold no strings (received an array of dtype {x.dtype}"
                        f" and shape {x.shape}): strings go to the text preprocessing layers "
                        "(TextVectorization, StringLookup, Hashing) or to a model whose "
                        'keras.Input has dtype="string".')
    return ember.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def _as_tensors(inputs):
    """A list/tuple of tensors or arrays stays a list (a multi-input call); a dict maps."""
    if isinstance(inputs, dict):
        return {key: as_tensor(x) for key, x in inputs.items()}
    if isinstance(inputs, (list, tuple)) and inputs and all(
            isinstance(x, (ember.Tensor, np.ndarray)) for x in inputs):
        return [as_tensor(x) for x in inputs]
    return as_tensor(inputs)


def _shapes(inputs):
    if isinstance(inputs, dict):
        return {key: tuple(x.shape) for key, x in inputs.items()}
    if isinstance(inputs, list):
        return [tuple(x.shape) for x in inputs]
    return inputs._array.shape


class Layer(NodeAttributes, Module):
    """Base class of Keras layers.

    Subclasses create weights in ``build(input_shape)`` with ``add_weight`` (run once, on the
    first call, with the shape of that first input) and compute in ``call(inputs, ...)``.
    Layers assigned to attributes (also inside lists, dicts and tuples) are tracked as
    sublayers; ``losses`` collects ``add_loss`` terms and weight/activity penalties.
    """

    supports_masking = False  # Keras: True for layers that pass an input mask on unchanged
    # ember-internal list attributes that hold no layers of their own (not tracked).
    _untracked_attributes = frozenset({"_weight_order", "_losses", "_layers", "_metrics"})

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        # Keras' auto config: the constructor arguments, for get_config() of subclasses that
        # do not define their own.
        object.__setattr__(instance, "_auto_config", auto_config(cls, args, kwargs))
        return instance

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None, input_dim=None,
                 batch_size=None, activity_regularizer=None, autocast=True, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword arguments: "
                            f"{sorted(kwargs)}")
        super().__init__()
        # Keras layers run in inference mode unless fit/train_on_batch train them (or a call
        # passes training=True): `model(x)` after training must not drop units.
        self.__dict__["training"] = False
        if name is None:
            name = unique_name(_snake_case(type(self).__name__))
        elif not isinstance(name, str):
            raise ValueError(f"{type(self).__name__}: name must be a string. Received: "
                             f"name={name!r}")
        self.name = name
        self.built = False
        self._trainable = bool(trainable)
        if dtype not in (None, "float32", ember.float32):
            raise NotImplementedError(f"{type(self).__name__}: ember Keras layers compute in "
                                      f"float32 only. Received: dtype={dtype!r}")
        self.autocast = bool(autocast)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        # Kept for Sequential, which turns it into an InputLayer (Keras semantics).
        self._input_shape_arg = None if input_shape is None else tuple(input_shape)
        self._batch_size_arg = batch_size
        self.activity_regularizer = regularizers.get(activity_regularizer)
        d = self.__dict__
        d["_weight_order"] = []
        d["_losses"] = []
        d["_nontrainable_at_creation"] = set()  # Keras lists these after the trainable ones
        d["_renamable_weights"] = set()  # add_weight keys an attribute assignment may rename

    # ---- attribute tracking ------------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_modules" in d and name not in self._untracked_attributes:
            if isinstance(value, Parameter) and self._adopt_weight(name, value):
                return
            if isinstance(value, (list, dict, tuple)):
                if name in d["_parameters"] or name in d["_buffers"]:
                    super().__setattr__(name, value)  # (Module's error)
                value = tracking.wrap(self, name, value)
                if isinstance(d["_modules"].get(name), Layer):
                    del d["_modules"][name]
                object.__setattr__(self, name, value)
                self._track_attribute(name, value)
                return
            if isinstance(d["_modules"].get(name), tracking.LayerCollection):
                del d["_modules"][name]  # the attribute no longer holds a collection
        super().__setattr__(name, value)

    def __delattr__(self, name):
        if isinstance(self._modules.get(name), tracking.LayerCollection):
            del self._modules[name]
        super().__delattr__(name)

    def _track_attribute(self, name, value):
        """Registers the layers inside ``value`` (attribute ``name``) as sublayers."""
        found = tracking.layers_in(value, Layer)
        modules = self._modules
        if found:
            modules[name] = tracking.LayerCollection(found)
        elif isinstance(modules.get(name), tracking.LayerCollection):
            del modules[name]

    def _adopt_weight(self, name, param) -> bool:
        """``self.w = self.add_weight(...)``: the weight keeps its place and is registered
        once, under the attribute name."""
        params = self._parameters
        old = next((k for k, p in params.items() if p is param), None)
        if old is None or old == name or old not in self._renamable_weights \
                or name in params or hasattr(type(self), name):
            return False
        self.__dict__["_parameters"] = {(name if k == old else k): p for k, p in params.items()}
        self._weight_order[self._weight_order.index(old)] = name
        self._renamable_weights.discard(old)
        if old in self._nontrainable_at_creation:
            self._nontrainable_at_creation.discard(old)
            self._nontrainable_at_creation.add(name)
        self.__dict__.pop(name, None)
        return True

    # ---- weights -----------------------------------------------------------------------------
    def add_weight(self, *args, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation="none",
                   overwrite_with_gradient=False, name=None):
        """Creates a weight (a Parameter) of ``shape``, initialized by ``initializer`` (default
        "glorot_uniform"), with an optional regularizer (its penalty is in ``losses``) and
        constraint (applied after each optimizer update). Keras 3's signature: ``shape``,
        ``initializer`` and ``dtype`` may also come positionally."""
        owner = f"{type(self).__name__}.add_weight"
        if len(args) > 3:
            raise TypeError(f"add_weight() takes at most 3 positional arguments but {len(args)} "
                            "were given.")
        if args and isinstance(args[0], str):
            raise ValueError("`name` must be passed as a keyword argument. Received: "
                             f"add_weight('{args[0]}', ...). Use: add_weight(shape=..., "
                             f"name='{args[0]}').")
        for i, (arg, value) in enumerate((("shape", shape), ("initializer", initializer),
                                          ("dtype", dtype))[:len(args)]):
            if value is not None:
                raise ValueError(f"`{arg}` was passed both positionally and as a keyword "
                                 "argument.")
        shape, initializer, dtype = (tuple(args) + (shape, initializer, dtype)[len(args):])[:3]
        check_variable_args(owner, "weights", dtype, aggregation)
        if overwrite_with_gradient:
            raise NotImplementedError(f"{owner}: overwrite_with_gradient=True (float8 "
                                      "training) is not supported by ember")
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{owner}: name must be a string. Received: name={name!r}")
        key = self._free_weight_key(name or "variable")
        param = self._add_weight(key, shape, initializer or "glorot_uniform", trainable,
                                 regularizer, constraint, name=name or key)
        self._renamable_weights.add(key)
        return param

    def _free_weight_key(self, name: str) -> str:
        """An attribute name for a new weight: ``name`` if free, else ``name_1``, ..."""
        key, i = name, 0
        while not key.isidentifier() or key in self._parameters or hasattr(self, key):
            i += 1
            key = f"{name}_{i}" if name.isidentifier() else f"variable_{i}"
        return key

    def _add_weight(self, attr, shape, initializer, trainable=True, regularizer=None,
                    constraint=None, name=None):
        """The one way ember's layers create weights: ``shape`` and ``initializer`` are in
        Keras' layout (so fans are Keras'); the Parameter ``attr`` stores
        ``_from_keras_layout(attr, values)``; regularizer and constraint see Keras' layout."""
        shape = () if shape is None else tuple(shape)
        if any(isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 0
               for d in shape):
            raise ValueError(f"{type(self).__name__}.add_weight: shape must be a tuple of "
                             f"non-negative integers. Received: shape={shape}")
        check_alloc(f"{type(self).__name__}.add_weight", shape, 4, what="a weight")
        spend_parameter(shape, 4)
        values = initializers.get(initializer)(shape)
        values = values.numpy() if isinstance(values, ember.Tensor) else np.asarray(values)
        values = self._from_keras_layout(attr, np.asarray(values, dtype=np.float32))
        # (np.array, not np.ascontiguousarray: that makes a scalar weight 1-D)
        param = KerasVariable(ember.from_numpy(np.array(values, dtype=np.float32, order="C")),
                              requires_grad=bool(trainable and self._trainable))
        param.name = name or attr
        param.path = f"{self.name}/{param.name}"
        regularizer = regularizers.get(regularizer)
        constraint = constraints.get(constraint)
        if regularizer is not None:
            param._keras_regularizer = (regularizer, functools.partial(self._keras_view, attr))
            _regularized_weights.add(param)
        if constraint is not None:
            param._keras_constraint = (constraint,
                                       functools.partial(self._to_keras_layout, attr),
                                       functools.partial(self._from_keras_layout, attr))
        super().__setattr__(attr, param)
        self._weight_order.append(attr)
        if not trainable:
            self._nontrainable_at_creation.add(attr)
        return param

    def _keras_view(self, attr_name: str, param):
        """``param`` in Keras' layout as a differentiable Tensor (for regularizers); layers
        whose stored layout differs override this with ``_to_keras_layout``."""
        return param

    def _own_weights(self):
        """(attribute name, Parameter) of this layer only, in Keras order (the weights created
        trainable, then the others)."""
        names = self._weight_order + [n for n in self._parameters if n not in self._weight_order]
        late = self._nontrainable_at_creation
        names = [n for n in names if n not in late] + [n for n in names if n in late]
        return [(n, self._parameters[n]) for n in names if self._parameters.get(n) is not None]

    def _sublayers(self):
        """The directly tracked sublayers, in tracking order, each once."""
        out, seen = [], set()
        for module in self._modules.values():
            found = (module._modules.values() if isinstance(module, tracking.LayerCollection)
                     else (module,))
            for layer in found:
                if isinstance(layer, Layer) and id(layer) not in seen:
                    seen.add(id(layer))
                    out.append(layer)
        return out

    @property
    def weights(self):
        out, seen = [], set()
        for w in [p for _, p in self._own_weights()] + [
                w for layer in self._sublayers() for w in layer.weights]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.requires_grad] if self.trainable else []

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for n, p in self._own_weights():
            # Buffers a layer lists among its weights (moving statistics) never train.
            if n in self._parameters and n not in self._nontrainable_at_creation:
                p.requires_grad_(self._trainable)
        for layer in self._sublayers():
            layer.trainable = value

    # ---- losses ------------------------------------------------------------------------------
    def add_loss(self, loss):
        """Adds a scalar loss tensor (from ``call``); it is in ``losses`` until the next
        outermost call, and fit adds it to the training loss."""
        flat = list(loss) if isinstance(loss, (list, tuple)) else [loss]
        for x in flat:
            if not isinstance(x, ember.Tensor):
                raise ValueError("`add_loss()` can only be called from inside `build()` or "
                                 f"`call()`, on a tensor input. Received invalid value: {x!r}")
        self._losses.extend(flat)
        _holding_losses.add(self)

    @property
    def losses(self):
        """The ``add_loss`` and activity-regularizer losses of the latest call of this layer
        and its sublayers, then the penalties of the trainable weights (computed now)."""
        if not _holding_losses.data and not _regularized_weights.data:
            return []  # (fit asks on every step; no model has any)
        losses = list(self._losses)
        for layer in self._all_sublayers():
            losses.extend(layer._losses)
        for w in self.trainable_weights:
            spec = getattr(w, "_keras_regularizer", None)
            if spec is not None:
                losses.append(spec[0](spec[1](w)))
        return losses

    def _clear_losses(self):
        for layer in [self] + self._all_sublayers():
            layer._losses.clear()
            _holding_losses.discard(layer)

    def _add_activity_loss(self, outputs):
        """Keras: the activity penalty of each output divided by its batch size."""
        for output in (outputs if isinstance(outputs, (list, tuple)) else (outputs,)):
            if isinstance(output, ember.Tensor):
                loss = self.activity_regularizer(output)
                if output.dim() > 0:
                    batch = output.shape[0]
                    loss = loss / batch if batch else loss * 0.0  # (divide_no_nan)
                self.add_loss(loss)

    # Keras layouts may differ from the stored (PyTorch) layout; Dense overrides these.
    def _to_keras_layout(self, attr_name: str, array: np.ndarray) -> np.ndarray:
        return array

    def _from_keras_layout(self, attr_name: str, array: np.ndarray) -> np.ndarray:
        return array

    def _keras_shape(self, attr_name: str, param) -> tuple:
        return tuple(self._to_keras_layout(attr_name, np.empty(param.shape, np.float32)).shape)

    def _weight_slots(self):
        """(layer, attribute name, Parameter) of every weight in ``weights`` order: a layer
        shared by a nested model and its outer model counts once, as in Keras."""
        slots, seen = [], set()
        for layer in [self] + self._all_sublayers():
            for n, p in layer._own_weights():
                if id(p) not in seen:  # (a Parameter two layers hold, too)
                    seen.add(id(p))
                    slots.append((layer, n, p))
        return slots

    def get_weights(self):
        """The layer's weights as NumPy arrays, in Keras order and layout."""
        return [np.array(layer._to_keras_layout(n, p.detach().numpy()), copy=True)
                for layer, n, p in self._weight_slots()]

    def set_weights(self, weights):
        """Sets the weights from NumPy arrays in Keras order and layout (as get_weights gives)."""
        weights = list(weights)
        slots = self._weight_slots()
        if len(weights) != len(slots):
            raise ValueError(f'Layer "{self.name}" expected {len(slots)} weights, but received '
                             f"{len(weights)} input weights.")
        converted = []
        for (layer, n, p), w in zip(slots, weights):
            w = np.asarray(w)
            expected = layer._keras_shape(n, p)
            if tuple(w.shape) != expected:
                raise ValueError(f'Layer "{layer.name}" weight shape {expected} is not '
                                 f"compatible with provided weight shape {tuple(w.shape)}.")
            converted.append((p, layer._from_keras_layout(n, w)))
        with ember.no_grad():
            for p, w in converted:
                p.copy_(ember.from_numpy(np.array(w, dtype=p.dtype.numpy, order="C")))  # (0-d too)

    def _all_sublayers(self):
        """Every sublayer, depth first, each once (a shared layer too)."""
        out, seen = [], {id(self)}

        def visit(layer):
            for sub in layer._sublayers():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    out.append(sub)
                    visit(sub)

        visit(self)
        return out

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but "
                             "the layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    # ---- build and call ----------------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:  # (a list or dict of shapes for several inputs, as in Keras)
            self.build(input_shape if isinstance(input_shape, (list, dict))
                       else tuple(input_shape))
            self.built = True

    def call(self, inputs, *args, **kwargs):
        return inputs

    def forward(self, inputs, *args, **kwargs):
        if not isinstance(inputs, ember.Tensor):
            if isinstance(inputs, KerasTensor) or has_keras_tensor((inputs, args, kwargs)):
                return symbolic_call(self, (inputs,) + args, kwargs)  # the functional API
            inputs = _as_tensors(inputs)
        self._maybe_build(_shapes(inputs))
        return self._call_in_context(inputs, args, kwargs)

    def _call_in_context(self, inputs, args, kwargs):
        """call() inside the Keras call context, with Keras' training, mask and loss rules."""
        signature = self.__dict__.get("_call_signature") or self._cache_call_signature()
        # (inlined, as the checks below: this runs for every layer of every batch)
        context = call_context.state.context
        entered = context.entry_layer is None
        if entered:
            context.entry_layer, context.training = self, None
            if _holding_losses.data:
                self._clear_losses()  # Keras: an outermost call starts with no losses
        try:
            if args or kwargs or context.training is not None or self.training \
                    or signature.training_default is not None:
                self._resolve_training(signature, context, args, kwargs)
            mask = tensor_masks.get_mask(inputs) if tensor_masks.masks else None
            if mask is not None and kwargs.get("mask") is None and signature.has_mask:
                kwargs["mask"] = mask  # Keras: the input's mask, when call() takes one
            outputs = self.call(inputs, *args, **kwargs)
            if self.activity_regularizer is not None:
                self._add_activity_loss(outputs)
            if mask is not None or signature.computes_mask:
                tensor_masks.propagate(self, inputs, outputs, kwargs.get("mask", mask))
        finally:
            if entered:
                context.entry_layer = None
        return outputs

    def _cache_call_signature(self):
        signature = call_context.signature_of(type(self))
        self.__dict__["_call_signature"] = signature
        return signature

    def _resolve_training(self, signature, context, args, kwargs):
        """Keras: ``training`` passed to this call, else the outer call's, else call()'s
        default; recorded in the context for the layers called next, and passed to call() when
        it takes it. ember: a layer in training mode (fit) without either runs with
        training=True; ember's own layers read that mode themselves, user layers get it passed
        (as Keras' fit passes training=True)."""
        position = signature.training_position
        explicit = position is not None and len(args) > position
        training = args[position] if explicit else kwargs.get("training")
        if not signature.has_training:  # Keras: __call__ takes it; call() does not see it
            kwargs.pop("training", None)
        if training is None:
            training = context.training
            if training is None:
                if self.training:
                    context.training = True
                    if signature.has_training and signature.user_class:
                        kwargs["training"] = True
                    return
                training = False if call_context.state.inference else signature.training_default
        context.training = training
        if training is not None and signature.has_training and not explicit:
            kwargs["training"] = training

    def compute_output_shape(self, input_shape):
        """Output shape (None for the batch) found by running the layer on a batch of one."""
        input_shape = tuple(input_shape)
        probe = ember.zeros(*((1,) + tuple(input_shape[1:])))
        was_training = self.training
        self.eval()
        try:
            with ember.no_grad(), call_context.inference():
                out = self(probe)
        finally:
            self.train(was_training)
        return (input_shape[0],) + tuple(out.shape[1:])

    def get_config(self) -> dict:
        """Keras 3: name and trainable (and the activity regularizer when set); a subclass
        that does not define get_config also gets its constructor arguments, when those are
        plain values (else NotImplementedError, as Keras)."""
        config = {"name": self.name}
        if type(self).get_config is Layer.get_config:
            auto = self.__dict__.get("_auto_config")
            if auto is None:
                raise NotImplementedError(
                    f"Object {type(self).__name__} was created by passing non-serializable "
                    "argument values in `__init__()`, and therefore the object must override "
                    "`get_config()` in order to be serializable. Please implement "
                    "`get_config()`.")
            config.update(auto)
        config["trainable"] = self.trainable
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        """The layer ``get_config()`` describes (unbuilt: weights come with ``build``)."""
        return cls(**{key: initializers.deserialize(value)
                      if key.endswith("_initializer") and isinstance(value, dict) else value
                      for key, value in config.items()})

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
