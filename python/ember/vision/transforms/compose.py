"""Compose and Lambda: chaining transforms and wrapping a user function as one."""


def listing(name, transforms, first_lines=()):
    """name( ... ) with one transform a line, as torchvision prints its containers."""
    lines = [f"{name}("] + [f"    {line}" for line in first_lines]
    lines += [f"    {transform}" for transform in transforms]
    return "\n".join(lines) + "\n)"


class Compose:
    """Applies each transform in turn: Compose([ToTensor(), Normalize(mean, std)])."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self):
        return listing(self.__class__.__name__, self.transforms)


class Lambda:
    """A user function used as a transform."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return f"{self.__class__.__name__}()"
