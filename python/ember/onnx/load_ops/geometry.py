"""The window attributes Conv, ConvTranspose and the pools share (kernel_shape, strides,
dilations, pads, auto_pad), read and checked once, and padding resolved per input."""
from __future__ import annotations

from dataclasses import dataclass

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")


@dataclass
class Window:
    auto_pad: str
    kernel: list | None
    strides: list | None
    dilations: list | None
    pads: list | None

    def sizes(self, values, n: int, name: str, default: int = 1) -> list:
        if values is None:
            return [default] * n
        if len(values) != n:
            raise ValueError(f"{name} {values} must have one value per spatial dimension ({n})")
        return values

    def resolve(self, in_sizes, kernel, strides, dilations) -> tuple:
        """(pads before, pads after) per spatial dimension for this input."""
        n = len(in_sizes)
        if self.auto_pad == "VALID":
            return [0] * n, [0] * n
        if self.auto_pad == "NOTSET":
            pads = self.pads if self.pads is not None else [0] * (2 * n)
            if len(pads) != 2 * n:
                raise ValueError(f"pads {pads} must have two values per spatial dimension ({n})")
            return pads[:n], pads[n:]
        before, after = [], []
        for size, k, s, d in zip(in_sizes, kernel, strides, dilations):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small, big = total // 2, total - total // 2
            before.append(small if self.auto_pad == "SAME_UPPER" else big)
            after.append(big if self.auto_pad == "SAME_UPPER" else small)
        return before, after


def read_window(node) -> Window:
    auto_pad = node.string("auto_pad", "NOTSET")
    if auto_pad not in AUTO_PADS:
        raise node.error(f"auto_pad must be one of {AUTO_PADS}, got {auto_pad!r}")
    window = Window(auto_pad, node.ints("kernel_shape", None), node.ints("strides", None),
                    node.ints("dilations", None), node.ints("pads", None))
    for name, values, low in (("kernel_shape", window.kernel, 1), ("strides", window.strides, 1),
                              ("dilations", window.dilations, 1), ("pads", window.pads, 0)):
        if values is not None and any(v < low for v in values):
            raise node.error(f"{name} must be {'positive' if low else 'non-negative'}, got "
                             f"{values}")
    if window.pads is not None and auto_pad != "NOTSET" and any(window.pads):
        raise node.error(f"pads {window.pads} cannot be combined with auto_pad={auto_pad!r}")
    return window


def torch_pad(before, after) -> list:
    """F.pad's argument: (last before, last after, previous before, ...)."""
    flat = []
    for b, a in zip(reversed(before), reversed(after)):
        flat += [b, a]
    return flat


def spatial_rank(x, op: str) -> int:
    n = x.ndim - 2
    if n not in (1, 2):
        raise NotImplementedError(f"{op} over {n} spatial dimensions (input shape "
                                  f"{tuple(x.shape)}) is not supported by ember (1-D and 2-D "
                                  "only)")
    return n


def pad_pairs(before, after) -> tuple:
    """ember's explicit padding argument: (before, after) of each spatial dimension in turn."""
    return tuple(p for b, a in zip(before, after) for p in (b, a))
