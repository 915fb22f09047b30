"""ember.nn.utils: gradient clipping, sequence packing, parametrizations and weight norm,
parameter vectors (PyTorch's torch.nn.utils names and semantics)."""
from . import parametrizations, parametrize, rnn
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                        get_total_norm)
from .convert_parameters import parameters_to_vector, vector_to_parameters
from .weight_norm import remove_weight_norm, weight_norm

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_",
           "get_total_norm", "parameters_to_vector", "vector_to_parameters", "weight_norm",
           "remove_weight_norm", "parametrizations", "parametrize", "rnn"]


# Last: a bad argument raises PyTorch's errors, never an internal one (issue 11).
from ..._public_errors import wrap_public_functions as _wrap_public_functions  # noqa: E402
_wrap_public_functions(globals(), __name__, skip=())
