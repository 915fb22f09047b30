"""Automatic tracking of layers kept in list, dict and tuple attributes (Keras 3's
``Tracker``): ``self.blocks = [Dense(8), Dense(4)]`` makes both Dense layers sublayers, so their
weights are the model's, also when the list is appended to later.

Such layers are registered as submodules of a hidden container Module named like the
attribute (state_dict keys "blocks.0.weight", as for an nn.ModuleList); the attribute itself
stays the user's list (a TrackedList that re-registers on every change).
"""
from __future__ import annotations

from ...nn import Module


class LayerCollection(Module):
    """The container submodule holding the layers found in one attribute, in order."""

    def __init__(self, layers):
        super().__init__()
        for i, layer in enumerate(layers):
            self._modules[str(i)] = layer

    def extra_repr(self):
        return ""


def layers_in(value, layer_type) -> list:
    """Every ``layer_type`` instance inside nested lists, tuples and dict values, in order,
    each once."""
    found, seen = [], set()

    def visit(item):
        if isinstance(item, layer_type):
            if id(item) not in seen:
                seen.add(id(item))
                found.append(item)
        elif isinstance(item, (list, tuple)):
            for sub in item:
                visit(sub)
        elif isinstance(item, dict):
            for sub in item.values():
                visit(sub)

    visit(value)
    return found


class _Tracked:
    """Mixin: after any change, tell the owning layer to re-register the attribute."""

    def _bind(self, owner, attr):
        self._owner, self._attr = owner, attr
        return self

    def _changed(self):
        owner = getattr(self, "_owner", None)
        if owner is not None:
            owner._track_attribute(self._attr, self)

    def __reduce_ex__(self, protocol):  # pickles (and deep-copies) as a plain container
        plain = list(self) if isinstance(self, list) else dict(self)
        return type(plain), (plain,)


def _mutator(base, name):
    method = getattr(base, name)

    def wrapped(self, *args, **kwargs):
        result = method(self, *args, **kwargs)
        self._changed()
        return result

    wrapped.__name__ = name
    return wrapped


class TrackedList(_Tracked, list):
    """A list attribute of a Layer; its layers are the owner's sublayers."""


class TrackedDict(_Tracked, dict):
    """A dict attribute of a Layer; the layers among its values are the owner's sublayers."""


for _name in ("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
              "__setitem__", "__delitem__", "__iadd__", "__imul__"):
    setattr(TrackedList, _name, _mutator(list, _name))
for _name in ("__setitem__", "__delitem__", "pop", "popitem", "clear", "update", "setdefault",
              "__ior__"):
    setattr(TrackedDict, _name, _mutator(dict, _name))


def wrap(owner, attr, value):
    """``value`` as stored on ``owner``: lists and dicts become tracked versions."""
    if type(value) is list:
        return TrackedList(value)._bind(owner, attr)
    if type(value) is dict:
        return TrackedDict(value)._bind(owner, attr)
    return value
