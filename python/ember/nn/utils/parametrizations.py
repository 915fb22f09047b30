"""torch.nn.utils.parametrizations: weight_norm as a parametrization (parameters
``parametrizations.<name>.original0`` = g and ``original1`` = v)."""
from __future__ import annotations

from ..module import Module
from . import parametrize
from .weight_norm import norm_except_dim, weight_norm_from

__all__ = ["weight_norm"]


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_norm_from(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def _load_legacy_keys(module, name):
    """Lets a state_dict saved with the legacy weight_norm (`name`_g, `name`_v) load, as
    PyTorch's load-state-dict pre-hook does. The method goes on the module's own Parametrized
    class (made for this module alone), so copies of the module keep it."""
    cls = type(module)
    load = cls._load_from_state_dict

    def load_with_renamed_keys(self, state_dict, prefix, *args):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)
        return load(self, state_dict, prefix, *args)
    cls._load_from_state_dict = load_with_renamed_keys


def weight_norm(module, name="weight", dim=0):
    """Reparametrizes module.<name> as g * v / ||v|| (norms over every dimension but dim; over
    the whole tensor with dim=None); returns the module."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    _load_legacy_keys(module, name)
    return module
