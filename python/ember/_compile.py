"""ember.compile: PyTorch's torch.compile signature; ember runs the model as it is.

ember has no graph compiler, so `compile(model)` returns `model` itself (a Module keeps its
state_dict keys, unlike PyTorch's `_orig_mod.` wrapper) and `@ember.compile` leaves a function
as it is. The arguments are checked as PyTorch checks them, so a script's call stays valid.
"""
from __future__ import annotations

_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


def compile(model=None, *, fullgraph: bool = False, dynamic=None, backend="inductor",  # noqa: A001
            mode=None, options=None, disable: bool = False):
    """compile(model, ...) -> model; compile(**kwargs) -> a decorator returning its argument."""
    if mode not in _MODES:
        raise RuntimeError(f"compile: unrecognized mode={mode!r}; expected one of "
                           f"{[m for m in _MODES if m]}")
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified "
                           "at the same time.")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"compile: options must be a dict, got {type(options).__name__}")
    if not (isinstance(backend, str) or callable(backend)):
        raise TypeError(f"compile: backend must be a name or a callable, got {backend!r}")
    if model is None:
        return lambda fn: compile(fn, fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                  mode=mode, options=options, disable=disable)
    if not callable(model):
        raise RuntimeError(f"compile: model must be a Module or a function, got "
                           f"{type(model).__name__}")
    return model
