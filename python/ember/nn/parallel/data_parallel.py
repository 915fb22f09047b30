"""nn.DataParallel as PyTorch has it on a machine without accelerators: the module runs as it is
(there is nothing to scatter to), device_ids is empty, and the wrapped module is registered as
``module`` so state_dict keys carry the ``module.`` prefix and checkpoints interchange with
PyTorch's DataParallel."""
from __future__ import annotations

from ..module import Module


class DataParallel(Module):
    """Wraps `module`; forward calls it with the same arguments. device_ids and output_device
    name accelerators, which a CPU has none of: PyTorch on a CPU ignores them, and so does
    ember."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be an ember.nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids = []
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """Functional DataParallel: module(*inputs, **module_kwargs) on the CPU."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
