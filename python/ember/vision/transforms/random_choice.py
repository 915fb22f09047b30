"""RandomApply, RandomChoice and RandomOrder: transforms applied by chance, one of several, or
all in a random order. Draws come from ember's default generator (torchvision draws
RandomChoice and RandomOrder from Python's `random`), so ember.manual_seed fixes them."""
from ... import nn
from ...random import default_generator
from ._random import permutation, rand
from .compose import listing


class RandomApply(nn.Module):
    """All of `transforms`, in order, with probability p; otherwise none."""

    def __init__(self, transforms, p=0.5):
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img):
        if self.p < rand():
            return img
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        return listing(self.__class__.__name__, self.transforms, [f"p={self.p}"])


class RandomChoice:
    """One of `transforms`, chosen with the relative weights p (uniform by default)."""

    def __init__(self, transforms, p=None):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence of callables")
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != "
                             f"{len(transforms)}")
        total = sum(p)
        self.transforms = transforms
        self.p = [weight / total for weight in p]

    def __call__(self, *args):
        index = int(default_generator.rng.choice(len(self.transforms), p=self.p))
        return self.transforms[index](*args)

    def __repr__(self):
        return f"{self.__class__.__name__}(transforms={self.transforms}, p={self.p})"


class RandomOrder:
    """All of `transforms`, in a random order."""

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError("Argument transforms should be a sequence of callables")
        self.transforms = transforms

    def __call__(self, img):
        for index in permutation(len(self.transforms)):
            img = self.transforms[index](img)
        return img

    def __repr__(self):
        return listing(self.__class__.__name__, self.transforms)
