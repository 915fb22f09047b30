"""Small models of both faces for the ember.viz tests, their PyTorch twins on the same
weights, and the checks every written PNG gets."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


class SmallNet(nn.Module):
    """conv1 -> ReLU -> Dropout -> conv2 -> ReLU -> max pool -> fc: 2-channel 6x6 images to 3
    classes. The dropout makes any look that forgets eval mode random."""

    def __init__(self, in_channels=2):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 3, kernel_size=3, padding=1)
        self.drop = nn.Dropout(0.5)
        self.conv2 = nn.Conv2d(3, 4, kernel_size=3, padding=1)
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        x = self.conv2(self.drop(F.relu(self.conv1(x))))
        x = F.max_pool2d(F.relu(x), 2)
        return self.fc(x.flatten(1))


def torch_small_net(model):
    """SmallNet in PyTorch (eval mode) with ``model``'s weights."""
    torch = pytest.importorskip("torch")
    tnn = torch.nn

    class Twin(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = tnn.Conv2d(model.conv1.in_channels, 3, 3, padding=1)
            self.drop = tnn.Dropout(0.5)
            self.conv2 = tnn.Conv2d(3, 4, 3, padding=1)
            self.fc = tnn.Linear(36, 3)

        def forward(self, x):
            x = self.conv2(self.drop(torch.relu(self.conv1(x))))
            return self.fc(torch.nn.functional.max_pool2d(torch.relu(x), 2).flatten(1))

    twin = Twin()
    twin.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in
                          model.state_dict().items()})
    return twin.eval()


def small_net(seed=0, in_channels=2):
    ember.manual_seed(seed)
    return SmallNet(in_channels)


def keras_small_cnn(seed=0):
    """Keras Sequential on (6, 6, 2) images: Conv2D (same, relu) -> Conv2D "last_conv"
    (valid, relu) -> Flatten -> Dense(3)."""
    from ember import keras as ek
    ek.utils.set_random_seed(seed)
    model = ek.Sequential([ek.Input((6, 6, 2)),
                           ek.layers.Conv2D(3, 3, padding="same", activation="relu",
                                            name="first_conv"),
                           ek.layers.Conv2D(4, 3, activation="relu", name="last_conv"),
                           ek.layers.Flatten(name="flatten"),
                           ek.layers.Dense(3, name="scores")])
    rng = np.random.default_rng(seed)  # non-zero biases, so every term is exercised
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([weights[0], rng.normal(0, 0.1, weights[1].shape)])
    return model


def images(n=2, shape=(2, 6, 6), seed=1, dtype=np.float32):
    return np.random.default_rng(seed).normal(size=(n, *shape)).astype(dtype)


def check_png(path, size=None):
    """``path`` is a PNG that decodes, has ``size`` (width, height) and is not blank."""
    Image = pytest.importorskip("PIL.Image")
    assert path.exists() and path.stat().st_size > 0
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image.convert("RGB"), dtype=np.float64)
        if size is not None:
            assert image.size == tuple(size)
    assert pixels.var() > 0
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 1


def figure_pixels(figure):
    """The (width, height) in pixels the figure is written at."""
    width, height = figure.get_size_inches() * figure.dpi
    return round(width), round(height)


def need_plotting():
    """Skips a plot test where matplotlib (or Pillow, which reads the PNGs back) is absent."""
    pytest.importorskip("matplotlib")
    pytest.importorskip("PIL")
