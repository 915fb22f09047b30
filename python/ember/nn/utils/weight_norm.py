"""Weight normalization, w = g * v / ||v|| (Salimans & Kingma, 2016): the legacy
torch.nn.utils.weight_norm / remove_weight_norm (parameters ``<name>_g`` and ``<name>_v``, the
weight recomputed by a forward pre-hook), and the math the parametrization shares."""
from __future__ import annotations

import warnings

from ... import functions as F
from ..parameter import Parameter

__all__ = ["norm_except_dim", "weight_norm_from", "WeightNorm", "weight_norm",
           "remove_weight_norm"]


def norm_except_dim(v, pow=2, dim=0):
    """The `pow`-norm of v over every dimension but `dim`, kept as size-1 dimensions (so it
    broadcasts against v); dim=-1 means over all of v (a 0-d tensor), as in PyTorch."""
    if dim == -1:
        axes = tuple(range(v.ndim))
        keepdim = False
    else:
        if not -v.ndim <= dim < v.ndim:
            raise IndexError(f"norm_except_dim: dim {dim} is out of range for a tensor of shape "
                             f"{tuple(v.shape)}")
        kept = dim % v.ndim
        axes = tuple(d for d in range(v.ndim) if d != kept)
        keepdim = True
    if pow == 2:
        return F.sqrt(F.sum(v * v, dim=axes, keepdim=keepdim))
    return F.pow(F.sum(F.pow(F.abs(v), pow), dim=axes, keepdim=keepdim), 1.0 / pow)


def weight_norm_from(v, g, dim=0):
    """The weight v * (g / norm_except_dim(v, 2, dim)) (PyTorch's torch._weight_norm)."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook of the legacy weight_norm: recomputes module.<name> from g and v."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return weight_norm_from(getattr(module, self.name + "_v"),
                                getattr(module, self.name + "_g"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                      "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning,
                      stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same "
                                   f"parameter {name}")
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g",
                                  Parameter(norm_except_dim(weight, 2, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Replaces parameter `name` by `name`_g (the norms, over every dimension but dim) and
    `name`_v (the direction); deprecated in PyTorch in favor of
    nn.utils.parametrizations.weight_norm, and warns as PyTorch does."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undoes weight_norm: `name` becomes one parameter again, holding the current weight."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
