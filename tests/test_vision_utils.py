"""ember.vision.utils: make_grid against a hand-built grid, save_image read back by Pillow."""
import numpy as np
import pytest

import ember
from ember.vision import utils

Image = pytest.importorskip("PIL.Image")


def images(n, c=3, h=2, w=3, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def reference_grid(batch, nrow, padding, pad_value):
    n, c, h, w = batch.shape
    columns = min(nrow, n)
    rows = -(-n // columns)
    grid = np.full((c, rows * (h + padding) + padding, columns * (w + padding) + padding),
                   pad_value, np.float32)
    for k in range(n):
        y, x = divmod(k, columns)
        top, left = padding + y * (h + padding), padding + x * (w + padding)
        grid[:, top:top + h, left:left + w] = batch[k]
    return grid


@pytest.mark.parametrize("n, nrow, padding, pad_value", [(5, 2, 2, 0.0), (5, 8, 1, 0.5),
                                                         (6, 3, 0, 1.0)])
def test_make_grid_tiles_the_batch_row_by_row(n, nrow, padding, pad_value):
    batch = images(n)
    out = utils.make_grid(ember.tensor(batch), nrow=nrow, padding=padding, pad_value=pad_value)
    np.testing.assert_array_equal(out.numpy(), reference_grid(batch, nrow, padding, pad_value))


def test_make_grid_makes_gray_images_rgb_and_takes_lists():
    batch = images(3, c=1)
    out = utils.make_grid(ember.tensor(batch), nrow=3)
    np.testing.assert_array_equal(out.numpy(), reference_grid(np.repeat(batch, 3, 1), 3, 2, 0))
    listed = utils.make_grid([ember.tensor(b) for b in batch], nrow=3)
    np.testing.assert_array_equal(listed.numpy(), out.numpy())
    single = utils.make_grid(ember.tensor(batch[0]))  # one (1, H, W) image: itself, RGB
    np.testing.assert_array_equal(single.numpy(), np.repeat(batch[0], 3, 0))
    plane = utils.make_grid(ember.tensor(batch[0, 0]))  # (H, W)
    assert tuple(plane.shape) == (3, 2, 3)


def test_make_grid_normalize_maps_the_range_onto_unit_interval():
    batch = images(2) * 4 - 1
    whole = utils.make_grid(ember.tensor(batch), normalize=True, padding=0).numpy()
    low, high = batch.min(), batch.max()
    expected = (batch - low) / (high - low)
    np.testing.assert_allclose(whole, reference_grid(expected, 8, 0, 0), rtol=1e-6)
    clipped = utils.make_grid(ember.tensor(batch), normalize=True, value_range=(0.0, 2.0),
                              padding=0).numpy()
    np.testing.assert_allclose(clipped, reference_grid(np.clip(batch, 0, 2) / 2, 8, 0, 0),
                               rtol=1e-6)
    each = utils.make_grid(ember.tensor(batch), normalize=True, scale_each=True,
                           padding=0).numpy()
    per_image = np.stack([(b - b.min()) / (b.max() - b.min()) for b in batch])
    np.testing.assert_allclose(each, reference_grid(per_image, 8, 0, 0), rtol=1e-6)


def test_make_grid_rejects_bad_input():
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(ember.rand(2, 3, 2, 2), normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="ember.Tensor"):
        utils.make_grid(np.zeros((2, 3, 2, 2)))
    with pytest.raises(ValueError, match="got shape \\(1, 2, 3, 2, 2\\)"):
        utils.make_grid(ember.rand(1, 2, 3, 2, 2))
    with pytest.raises(NotImplementedError, match="not differentiable"):
        utils.make_grid(ember.rand(2, 3, 2, 2, requires_grad=True))


def test_save_image_writes_a_png_of_the_grid(tmp_path):
    batch = images(4, h=5, w=6)
    path = tmp_path / "grid.png"
    utils.save_image(ember.tensor(batch, requires_grad=True), path, nrow=2, padding=1)
    with Image.open(path) as image:
        assert image.format == "PNG"
        pixels = np.asarray(image)
    grid = reference_grid(batch, 2, 1, 0.0)
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(pixels, expected)
