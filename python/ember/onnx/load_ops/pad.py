"""Pad (constant, reflect, edge and wrap modes; pads, constant_value and axes as inputs)."""
from __future__ import annotations

from ...nn import functional as F
from .geometry import torch_pad
from .registry import register
from .values import axes_of, int_list, scalar

_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}


@register("Pad", since=11)  # since 11 the pads are an input (before, an attribute)
def pad(node):
    mode = node.string("mode", "constant")
    if mode not in _MODES:
        raise node.error(f"mode must be one of {list(_MODES)}, got {mode!r}")

    def run(x, pads, value=None, axes=None):
        amounts = int_list(pads, "Pad pads")
        chosen = axes_of(int_list(axes, "Pad axes"), x.ndim) if axes is not None else \
            list(range(x.ndim))
        if len(amounts) != 2 * len(chosen):
            raise ValueError(f"Pad pads {amounts} must hold two values per padded axis "
                             f"({len(chosen)}) of an input of shape {tuple(x.shape)}")
        before, after = [0] * x.ndim, [0] * x.ndim
        for i, axis in enumerate(chosen):
            before[axis], after[axis] = amounts[i], amounts[i + len(chosen)]
        # F.pad pads the trailing dimensions: from the first padded one on
        first = next((a for a in range(x.ndim) if before[a] or after[a]), x.ndim)
        flat = torch_pad(before[first:], after[first:])
        if not flat:
            return x
        if mode == "constant":
            fill = 0.0 if value is None else scalar(value, "Pad constant_value")
            return F.pad(x, flat, value=fill)
        return F.pad(x, flat, mode=_MODES[mode])
    return run
