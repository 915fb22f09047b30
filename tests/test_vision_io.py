"""ember.vision.io: read_image and write_png round trips through real image files."""
import numpy as np
import pytest

import ember
from ember.vision.io import ImageReadMode, read_image, write_png

Image = pytest.importorskip("PIL.Image")


def rgb(h=4, w=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


def test_read_image_gives_chw_uint8(tmp_path):
    pixels = rgb()
    Image.fromarray(pixels).save(tmp_path / "a.png")
    out = read_image(str(tmp_path / "a.png"))
    assert out.dtype == ember.uint8 and tuple(out.shape) == (3, 4, 5)
    np.testing.assert_array_equal(out.numpy(), pixels.transpose(2, 0, 1))


def test_read_image_modes(tmp_path):
    pixels = rgb()
    Image.fromarray(pixels).save(tmp_path / "a.png")
    gray = read_image(tmp_path / "a.png", ImageReadMode.GRAY)
    expected = np.asarray(Image.fromarray(pixels).convert("L"))
    np.testing.assert_array_equal(gray.numpy(), expected[None])
    rgba = read_image(tmp_path / "a.png", mode=ImageReadMode.RGB_ALPHA)
    assert tuple(rgba.shape) == (4, 4, 5) and rgba.numpy()[3].min() == 255
    Image.fromarray(pixels[:, :, 0]).convert("1").save(tmp_path / "bits.png")
    bits = read_image(tmp_path / "bits.png")
    assert tuple(bits.shape) == (1, 4, 5) and set(np.unique(bits.numpy())) <= {0, 255}
    palette = Image.fromarray(pixels).convert("P")
    palette.save(tmp_path / "p.png")
    np.testing.assert_array_equal(read_image(tmp_path / "p.png").numpy(),
                                  np.asarray(palette.convert("RGB")).transpose(2, 0, 1))


def test_write_png_round_trips(tmp_path):
    image = ember.tensor(rgb().transpose(2, 0, 1).copy())
    write_png(image, str(tmp_path / "b.png"))
    np.testing.assert_array_equal(read_image(tmp_path / "b.png").numpy(), image.numpy())
    gray = ember.tensor(rgb()[None, :, :, 0].copy())
    write_png(gray, tmp_path / "g.png", compression_level=9)
    np.testing.assert_array_equal(read_image(tmp_path / "g.png").numpy(), gray.numpy())
    with pytest.raises(ValueError, match="write_png: expected a \\(C, H, W\\) uint8 tensor"):
        write_png(ember.rand(3, 2, 2), tmp_path / "c.png")


def test_read_image_refuses_16_bit_images(tmp_path):
    Image.fromarray(np.full((2, 2), 40000, np.uint16)).save(tmp_path / "deep.png")
    with pytest.raises(NotImplementedError, match="8-bit images only"):
        read_image(tmp_path / "deep.png")
