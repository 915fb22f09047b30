"""affine and RandomAffine: torchvision's conventions (clockwise angle, translation after the
rotation, shear) checked against NumPy shifts and rotations and Pillow's own AFFINE warp."""
import math

import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import InterpolationMode
from ember.vision.transforms import functional as TF
from ember.vision.transforms.functional_affine import inverse_affine_matrix

Image = pytest.importorskip("PIL.Image")


def planes(c=2, h=6, w=6, seed=0):
    return np.random.default_rng(seed).random((c, h, w)).astype(np.float32) + 1  # never 0


def test_affine_translation_shifts_right_and_down_with_zero_fill():
    x = planes(h=5, w=7)
    out = TF.affine(ember.tensor(x), angle=0.0, translate=[2, 1], scale=1.0, shear=[0.0, 0.0])
    expected = np.zeros_like(x)
    expected[:, 1:, 2:] = x[:, :-1, :-2]
    np.testing.assert_array_equal(out.numpy(), expected)
    image = Image.fromarray((x[0] * 100).astype(np.uint8))
    moved = TF.affine(image, 0.0, [2, 1], 1.0, 0.0, fill=9)
    assert np.asarray(moved)[0, 0] == 9
    np.testing.assert_array_equal(np.asarray(moved)[1:, 2:], np.asarray(image)[:-1, :-2])


def test_affine_angle_turns_clockwise():
    x = planes()
    out = TF.affine(ember.tensor(x), angle=90.0, translate=[0, 0], scale=1.0, shear=[0.0, 0.0])
    np.testing.assert_array_equal(out.numpy(), np.rot90(x, k=-1, axes=(-2, -1)))
    # rotate, by contrast, turns counter-clockwise
    np.testing.assert_array_equal(TF.rotate(ember.tensor(x), -90.0).numpy(), out.numpy())


def documented_inverse(center, angle, translate, scale, shear):
    """torchvision's documented closed form of M^-1 for M = T C RSS C^-1, with
    RSS = [[s cos(a - sy)/cos(sy), s(-cos(a - sy) tan(sx)/cos(sy) - sin(a))],
           [s sin(a - sy)/cos(sy), s(-sin(a - sy) tan(sx)/cos(sy) + cos(a))]]."""
    a, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    rss = scale * np.array([
        [math.cos(a - sy) / math.cos(sy),
         -math.cos(a - sy) * math.tan(sx) / math.cos(sy) - math.sin(a)],
        [math.sin(a - sy) / math.cos(sy),
         -math.sin(a - sy) * math.tan(sx) / math.cos(sy) + math.cos(a)]])
    forward = np.eye(3)
    forward[:2, :2] = rss
    c = np.array([[1, 0, center[0]], [0, 1, center[1]], [0, 0, 1.0]])
    t = np.array([[1, 0, translate[0]], [0, 1, translate[1]], [0, 0, 1.0]])
    inverse = np.linalg.inv(t @ c @ forward @ np.linalg.inv(c))
    return inverse[:2].ravel().tolist()


@pytest.mark.parametrize("angle, translate, scale, shear", [
    (30.0, [1, -2], 1.3, [10.0, 0.0]),
    (-45.0, [0, 3], 0.8, [-5.0, 12.0]),
])
def test_affine_of_a_pil_image_is_pillows_warp_of_the_documented_matrix(angle, translate,
                                                                         scale, shear):
    array = np.random.default_rng(1).integers(0, 256, (11, 13, 3)).astype(np.uint8)
    image = Image.fromarray(array)
    out = TF.affine(image, angle, translate, scale, shear,
                    interpolation=InterpolationMode.BILINEAR, fill=(1, 2, 3))
    matrix = documented_inverse([13 * 0.5, 11 * 0.5], angle, translate, scale, shear)
    np.testing.assert_allclose(
        inverse_affine_matrix([6.5, 5.5], angle, translate, scale, shear), matrix,
        rtol=1e-12, atol=1e-12)
    expected = image.transform((13, 11), Image.Transform.AFFINE, matrix,
                               Image.Resampling.BILINEAR, fillcolor=(1, 2, 3))
    # Matrices equal to the last bits can still round a bilinear uint8 pixel the other way.
    difference = np.abs(np.asarray(out).astype(int) - np.asarray(expected))
    assert difference.max() <= 1 and np.count_nonzero(difference) <= 4
    # The tensor path warps each plane the same way (uint8 planes through mode "L").
    tensor_out = TF.affine(T.PILToTensor()(image), angle, translate, scale, shear,
                           interpolation=InterpolationMode.BILINEAR, fill=[1, 2, 3])
    np.testing.assert_array_equal(tensor_out.numpy(), np.asarray(out).transpose(2, 0, 1))


def test_random_affine_draws_in_torchvision_order_and_is_seeded():
    affine = T.RandomAffine(degrees=15, translate=(0.1, 0.2), scale=(0.9, 1.1),
                            shear=(-5, 5, -3, 3))
    x = ember.tensor(planes(h=20, w=10))
    ember.manual_seed(6)
    out = affine(x)
    ember.manual_seed(6)
    angle, (tx, ty), scale, (shx, shy) = T.RandomAffine.get_params(
        affine.degrees, affine.translate, affine.scale, affine.shear, [10, 20])
    assert -15 <= angle <= 15 and abs(tx) <= 1 and abs(ty) <= 4
    assert 0.9 <= scale <= 1.1 and -5 <= shx <= 5 and -3 <= shy <= 3
    expected = TF.affine(x, angle, [tx, ty], scale, [shx, shy])
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_random_affine_translate_only_moves_whole_pixels():
    x = planes(c=1, h=12, w=12)
    affine = T.RandomAffine(degrees=0, translate=(0.25, 0.25))
    ember.manual_seed(0)
    for _ in range(10):
        out = affine(ember.tensor(x)).numpy()[0]
        kept = out[out != 0]
        assert set(np.round(kept, 6)) <= set(np.round(x[0].ravel(), 6))
        assert kept.size >= 9 * 9  # at most 3 pixels off in each direction


def test_random_affine_rejects_bad_arguments():
    with pytest.raises(ValueError, match="RandomAffine: If degrees is a single number"):
        T.RandomAffine(-1)
    with pytest.raises(ValueError, match="translate values should be between 0.0 and 1.0"):
        T.RandomAffine(0, translate=(0.5, 1.5))
    with pytest.raises(ValueError, match="scale values should be positive"):
        T.RandomAffine(0, scale=(0.0, 1.0))
    with pytest.raises(ValueError, match="shear should be a number or a sequence of 2 or 4"):
        T.RandomAffine(0, shear=(1, 2, 3))
    with pytest.raises(ValueError, match="affine: Argument scale should be positive"):
        TF.affine(ember.rand(1, 4, 4), 0.0, [0, 0], 0.0, [0.0, 0.0])
    with pytest.raises(ValueError, match="interpolation should be nearest, bilinear or bicubic"):
        TF.affine(ember.rand(1, 4, 4), 0.0, [0, 0], 1.0, 0.0,
                  interpolation=InterpolationMode.BOX)
