"""WithProbability: the base of the transforms that apply one function with probability p."""
from ... import nn
from ._random import rand


class WithProbability(nn.Module):
    """Subclasses name the function and its arguments; forward applies it with probability p."""

    def __init__(self, p):
        super().__init__()
        self.p = p

    def apply_transform(self, img):
        raise NotImplementedError

    def forward(self, img):
        if rand() < self.p:
            return self.apply_transform(img)
        return img

    def extra_repr(self):
        return f"p={self.p}"
