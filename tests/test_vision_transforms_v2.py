"""ember.vision.transforms.v2: ToImage, ToDtype and the v1 transforms under their v2 names."""
import numpy as np
import pytest

import ember
import ember.vision as torchvision
from ember.vision import transforms
from ember.vision.transforms import v2

Image = pytest.importorskip("PIL.Image")


def rgb(h=4, w=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


def test_to_image_keeps_uint8_in_chw():
    pixels = rgb()
    from_pil = v2.ToImage()(Image.fromarray(pixels))
    from_array = v2.ToImage()(pixels)
    for out in (from_pil, from_array):
        assert out.dtype == ember.uint8
        np.testing.assert_array_equal(out.numpy(), pixels.transpose(2, 0, 1))
    assert tuple(v2.ToImage()(pixels[:, :, 0]).shape) == (1, 4, 5)
    assert tuple(v2.ToImage()(ember.zeros(4, 5)).shape) == (1, 4, 5)
    with pytest.raises(TypeError, match="ToImage: expected a PIL image"):
        v2.ToImage()([1, 2])


def test_to_dtype_casts_or_rescales():
    image = ember.tensor(np.array([[[0, 51, 255]]], np.uint8))
    np.testing.assert_array_equal(v2.ToDtype(ember.float32)(image).numpy(), [[[0, 51, 255]]])
    np.testing.assert_allclose(v2.ToDtype(ember.float32, scale=True)(image).numpy(),
                               np.array([[[0, 51, 255]]], np.float32) / 255)
    with pytest.raises(NotImplementedError, match="dict of dtypes"):
        v2.ToDtype({ember.Tensor: ember.float32})


def test_the_v2_pipeline_equals_the_v1_pipeline():
    image = Image.fromarray(rgb(6, 7))
    new = v2.Compose([v2.ToImage(), v2.ToDtype(ember.float32, scale=True),
                      v2.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.2))])(image)
    old = transforms.Compose([transforms.ToTensor(),
                              transforms.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.2))])(image)
    np.testing.assert_allclose(new.numpy(), old.numpy(), rtol=1e-6)
    assert torchvision.transforms.v2.RandomResizedCrop is transforms.RandomResizedCrop
    assert v2.ToPureTensor()(new) is new


def test_v2_transforms_take_one_image_at_a_time():
    with pytest.raises(TypeError, match="img should be a PIL Image or an ember Tensor"):
        v2.RandomHorizontalFlip(p=1.0)((ember.zeros(3, 2, 2), 1))
