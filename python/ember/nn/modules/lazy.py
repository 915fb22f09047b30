"""LazyModuleMixin: a module whose parameter shapes come from its first input (PyTorch's).

A forward pre-hook calls ``initialize_parameters(*args)`` on the first call, which materializes
the module's UninitializedParameters/Buffers in place; the module then becomes its eager class
(``cls_to_become``: LazyLinear -> Linear) and the hook is removed. Loading a state_dict into a
lazy module materializes what it loads, with the loaded shapes.
"""
from __future__ import annotations

from ... import autograd
from .._uninitialized import is_lazy


class LazyModuleMixin:
    """Mix in before the eager class; subclasses implement initialize_parameters(input)."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._initialize_hook = self.register_forward_pre_hook(_infer_parameters)

    def initialize_parameters(self, *args, **kwargs):
        raise NotImplementedError(f"initialize_parameters is not implemented for "
                                  f"{type(self).__name__}")

    def has_uninitialized_params(self) -> bool:
        """Whether any own parameter or buffer is still uninitialized."""
        tensors = list(self._parameters.values()) + list(self._buffers.values())
        return any(is_lazy(t) for t in tensors)

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """As Module.state_dict; uninitialized entries appear as themselves (PyTorch's)."""
        destination = super().state_dict(*args, destination=destination, prefix=prefix,
                                          keep_vars=True)
        if not keep_vars:
            for key, value in destination.items():
                if key.startswith(prefix) and "." not in key[len(prefix):] and not is_lazy(value):
                    destination[key] = value.detach()
        return destination

    def _load_from_state_dict(self, state_dict, prefix, missing_keys, unexpected_keys,
                              error_msgs):
        """Materializes each uninitialized entry that the state_dict holds, with its shape."""
        for table in (self._parameters, self._buffers):
            for name, tensor in table.items():
                key = prefix + name
                if is_lazy(tensor) and key in state_dict and not is_lazy(state_dict[key]):
                    with autograd.no_grad():
                        tensor.materialize(tuple(state_dict[key].shape))
        super()._load_from_state_dict(state_dict, prefix, missing_keys, unexpected_keys,
                                      error_msgs)


def _infer_parameters(module, args):
    """The first call's pre-hook: initialize, check, become the eager class."""
    with autograd.no_grad():
        module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"module {module._get_name()} has not been fully initialized")
    module._initialize_hook.remove()
    del module._initialize_hook
    if module.cls_to_become is not None:
        module.__class__ = module.cls_to_become
