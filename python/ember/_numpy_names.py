"""NumPy's argument names, which PyTorch accepts on every dim argument of its native functions:
axis= for dim= and keepdims= for keepdim=."""
import functools

_ALIASES = (("axis", "dim"), ("keepdims", "keepdim"))


def numpy_names(fn):
    """fn accepting axis=/keepdims= as dim=/keepdim= (both spellings at once is a TypeError)."""
    @functools.wraps(fn)
    def accepting_numpy_names(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            for alias, name in _ALIASES:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {name!r} and its alias "
                                        f"{alias!r}")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    return accepting_numpy_names
