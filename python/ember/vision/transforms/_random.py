"""Draws for the random transforms, from ember's default generator, so ember.manual_seed makes
them reproducible (torchvision draws from torch's default generator the same way)."""
import math

from ...random import default_generator


def rand():
    """A float in [0, 1), as torch.rand(1).item()."""
    return float(default_generator.rng.random())


def randint(low, high):
    """An int in [low, high), as torch.randint(low, high, (1,)).item()."""
    return int(default_generator.rng.integers(low, high))


def uniform(low, high):
    """A float in [low, high), as torch.empty(1).uniform_(low, high).item()."""
    return float(default_generator.rng.uniform(low, high))


def permutation(n):
    """0..n-1 in random order, as torch.randperm(n).tolist()."""
    return [int(k) for k in default_generator.rng.permutation(n)]


def box_sides(area, scale, ratio):
    """One draw of a random box, as torchvision's crops and erasing draw it: an area of
    area * uniform(scale), an aspect ratio log-uniform in ratio; returns the rounded
    (sqrt(area * ratio), sqrt(area / ratio))."""
    box_area = area * uniform(scale[0], scale[1])
    aspect_ratio = math.exp(uniform(math.log(ratio[0]), math.log(ratio[1])))
    return (int(round(math.sqrt(box_area * aspect_ratio))),
            int(round(math.sqrt(box_area / aspect_ratio))))
