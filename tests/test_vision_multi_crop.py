"""FiveCrop / TenCrop: corner and centre crops (and of the mirror image) as a tuple."""
import numpy as np
import pytest

import ember
from ember.vision import transforms as T

Image = pytest.importorskip("PIL.Image")


def test_five_crop_returns_the_corners_and_the_centre():
    x = np.arange(2 * 6 * 8, dtype=np.float32).reshape(2, 6, 8)
    crops = T.FiveCrop((3, 4))(ember.tensor(x))
    expected = [x[:, :3, :4], x[:, :3, 4:], x[:, 3:, :4], x[:, 3:, 4:], x[:, 2:5, 2:6]]
    assert len(crops) == 5
    for crop, want in zip(crops, expected):
        np.testing.assert_array_equal(crop.numpy(), want)


def test_ten_crop_adds_the_crops_of_the_mirror_image():
    x = np.arange(6 * 6, dtype=np.float32).reshape(1, 6, 6)
    crops = T.TenCrop(4)(ember.tensor(x))
    assert len(crops) == 10
    np.testing.assert_array_equal(crops[5].numpy(), x[:, :4, ::-1][:, :, :4])
    vertical = T.TenCrop(4, vertical_flip=True)(ember.tensor(x))
    np.testing.assert_array_equal(vertical[5].numpy(), x[:, ::-1][:, :4, :4])
    image = Image.fromarray(np.arange(36, dtype=np.uint8).reshape(6, 6))
    pil_crops = T.TenCrop(4)(image)
    assert all(isinstance(c, Image.Image) and c.size == (4, 4) for c in pil_crops)
    np.testing.assert_array_equal(np.asarray(pil_crops[1]), np.asarray(image)[:4, 2:])


def test_five_crop_with_the_stack_idiom_and_errors():
    pipeline = T.Compose([T.FiveCrop(4),
                          T.Lambda(lambda crops: ember.stack([T.ToTensor()(c) for c in crops]))])
    out = pipeline(Image.fromarray(np.zeros((6, 7, 3), np.uint8)))
    assert tuple(out.shape) == (5, 3, 4, 4)
    with pytest.raises(ValueError, match="Requested crop size \\(7, 7\\) is bigger than input "
                                         "size \\(6, 7\\)"):
        T.FiveCrop(7)(ember.zeros(3, 6, 7))
