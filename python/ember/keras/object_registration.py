"""Custom objects a saved file may name: keras.saving.register_keras_serializable,
get_custom_objects, custom_object_scope / CustomObjectScope (Keras 3 semantics).

A file names classes by string; loading only ever looks such a string up here (registered
objects, the active scope, the ``custom_objects=`` of the call) or among ember's own classes.
Nothing named in a file is imported, so a file cannot run code the user did not define.
"""
from __future__ import annotations

import inspect

_GLOBAL_CUSTOM_OBJECTS: dict = {}
_GLOBAL_CUSTOM_NAMES: dict = {}
_scope_stack: list = []  # the dicts of the active custom_object_scope()s, innermost last


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` makes the names known to loading
    inside the block."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _scope_stack.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scope_stack.pop()
        return False


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """The global dict of registered objects (``"package>name"`` -> object); editable."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Class/function decorator registering the object as ``"{package}>{name}"`` (name
    defaults to the object's ``__name__``)."""
    if not isinstance(package, str) or ">" in package:
        raise ValueError(f"register_keras_serializable: package must be a string without '>'. "
                         f"Received: package={package!r}")

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() "
                             "method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj) -> str:
    """``"package>name"`` for a registered object, else its ``__name__``."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def is_registered(obj) -> bool:
    return obj in _GLOBAL_CUSTOM_NAMES


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object known as ``name``: the innermost custom_object_scope first, then the
    registered objects, ``custom_objects``, ``module_objects``; None when unknown."""
    for scope in reversed(_scope_stack):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


def serialize_object(obj, module: str, builtin: bool = True) -> dict:
    """Keras 3's form of a configurable object: module, class_name, config and
    registered_name ("package>name" when registered; None for ember's own classes; the class
    name for other user classes, which loading finds only through custom_objects)."""
    cls = type(obj)
    registered = _GLOBAL_CUSTOM_NAMES.get(cls)
    if registered is None and not builtin:
        registered, module = cls.__name__, cls.__module__
    return {"module": module, "class_name": cls.__name__, "config": obj.get_config(),
            "registered_name": registered}


def lookup_class(spec: dict, builtins: dict, kind: str, custom_objects=None):
    """The class a ``{"class_name", "registered_name", ...}`` spec names: a custom object (by
    registered name, then class name) or one of ``builtins``; ValueError when unknown."""
    names = [n for n in (spec.get("registered_name"), spec.get("class_name"))
             if isinstance(n, str)]
    for n in names:
        found = get_registered_object(n, custom_objects)
        if found is not None:
            return found
    for n in names:
        if n in builtins:
            return builtins[n]
    raise ValueError(
        f"Unknown {kind} class: {spec.get('class_name')!r}. ember rebuilds only its own Keras "
        f"{kind}s and objects registered with keras.saving.register_keras_serializable or "
        "passed through custom_objects= / custom_object_scope.")


# ---- serialize / deserialize / get of configurable objects (regularizers, constraints) -------
def serialize_configurable(obj, classes, module: str, kind: str):
    """Keras 3's dict form of ``obj`` (None for None); a custom object must be registered."""
    if obj is None:
        return None
    if type(obj) in classes:
        return serialize_object(obj, module)
    if isinstance(obj, classes[0]) or is_registered(type(obj)):  # a user subclass
        return serialize_object(obj, module, builtin=False)
    if is_registered(obj):  # a registered plain function
        return get_registered_name(obj)
    raise NotImplementedError(
        f"{module}.serialize: {obj!r:.80} is neither a {classes[0].__name__} nor registered "
        "with keras.saving.register_keras_serializable, so a file could not name it.")


def deserialize_configurable(config, by_name: dict, kind: str, custom_objects=None):
    """The object a ``serialize_configurable`` result (or a registered name) describes."""
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects, by_name)
        if found is None:
            raise ValueError(f"Could not interpret {kind} identifier: {config}")
        return found() if inspect.isclass(found) else found
    if not isinstance(config, dict) or not isinstance(config.get("config", {}), dict):
        raise ValueError(f"Could not interpret {kind} identifier: {config!r:.100}")
    cls = lookup_class(config, by_name, kind, custom_objects)
    return cls.from_config(dict(config.get("config", {})))


def get_configurable(identifier, by_name: dict, kind: str):
    """None, an instance, a callable, a name or a config dict -> the object (Keras' get)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize_configurable(identifier, by_name, kind)
    elif isinstance(identifier, str):
        obj = by_name.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
