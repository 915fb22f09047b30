"""RandomApply, RandomChoice, RandomOrder, RandomGrayscale and RandomErasing: what they do,
and that ember.manual_seed fixes their draws."""
import numpy as np
import pytest

import ember
from ember.vision import transforms as T
from ember.vision.transforms import functional as TF


def add(k):
    return T.Lambda(lambda x: x + k)


def times(k):
    return T.Lambda(lambda x: x * k)


def test_random_apply_applies_all_or_nothing():
    assert T.RandomApply([add(1), times(10)], p=1.0)(1) == 20
    assert T.RandomApply([add(1), times(10)], p=0.0)(1) == 1
    apply = T.RandomApply([add(1)], p=0.3)
    ember.manual_seed(4)
    draws = [apply(0) for _ in range(300)]
    ember.manual_seed(4)
    assert [apply(0) for _ in range(300)] == draws
    assert 50 < sum(draws) < 130  # p = 0.3 of 300
    assert repr(T.RandomApply([T.Lambda(abs)], p=0.3)) == "RandomApply(\n    p=0.3\n    Lambda()\n)"


def test_random_choice_follows_its_weights():
    choice = T.RandomChoice([add(1), add(2)], p=[3, 1])
    ember.manual_seed(0)
    draws = [choice(0) for _ in range(400)]
    assert set(draws) == {1, 2} and 250 < draws.count(1) < 350  # 3/4 of 400
    assert {T.RandomChoice([add(1), add(2)], p=[1, 0])(0) for _ in range(20)} == {1}
    with pytest.raises(ValueError, match="Length of p doesn't match"):
        T.RandomChoice([add(1)], p=[1, 2])
    with pytest.raises(TypeError, match="sequence of callables"):
        T.RandomChoice(add(1))


def test_random_order_runs_every_transform_in_both_orders():
    order = T.RandomOrder([add(1), times(10)])
    ember.manual_seed(1)
    draws = [order(1) for _ in range(50)]
    assert set(draws) == {20, 11}  # (1 + 1) * 10 or 1 * 10 + 1
    ember.manual_seed(1)
    assert [order(1) for _ in range(50)] == draws


def test_random_grayscale_keeps_the_channel_count():
    x = ember.rand(3, 4, 5)
    gray = T.RandomGrayscale(p=1.0)(x)
    np.testing.assert_array_equal(gray.numpy(), T.Grayscale(3)(x).numpy())
    assert T.RandomGrayscale(p=0.0)(x) is x


def erased_box(before, after):
    """(rows, cols) that RandomErasing changed."""
    changed = np.any(before != after, axis=0)
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    return rows, cols


def test_random_erasing_blanks_one_rectangle_of_bounded_area():
    x = np.random.default_rng(0).random((3, 20, 24)).astype(np.float32) + 1  # never 0
    erasing = T.RandomErasing(p=1.0, scale=(0.05, 0.2), ratio=(0.5, 2.0), value=0)
    ember.manual_seed(2)
    for _ in range(20):
        out = erasing(ember.tensor(x)).numpy()
        rows, cols = erased_box(x, out)
        assert np.all(out[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] == 0)
        assert np.count_nonzero(out == 0) == 3 * len(rows) * len(cols)  # one solid box
        area = len(rows) * len(cols)
        assert 0.05 * 480 * 0.7 <= area <= 0.2 * 480 * 1.3  # rounding of h and w


def test_random_erasing_values_inplace_and_seeding():
    x = ember.ones(3, 10, 10)
    per_channel = T.RandomErasing(p=1.0, value=(5, 6, 7))(x).numpy()
    assert set(np.unique(per_channel[1])) == {1.0, 6.0}
    noisy = T.RandomErasing(p=1.0, value="random")
    ember.manual_seed(9)
    first = noisy(x).numpy()
    ember.manual_seed(9)
    np.testing.assert_array_equal(noisy(x).numpy(), first)
    assert np.count_nonzero(first != 1.0) > 0 and x.numpy().min() == 1.0  # x untouched
    target = ember.ones(3, 10, 10)
    assert T.RandomErasing(p=1.0, inplace=True)(target) is target
    assert target.numpy().min() == 0.0
    assert T.RandomErasing(p=0.0)(x) is x


def test_random_erasing_gives_up_after_ten_misses():
    x = ember.rand(3, 6, 6)
    # An erased area of the whole image never fits strictly inside it.
    out = T.RandomErasing(p=1.0, scale=(1.0, 1.0), ratio=(1.0, 1.0))(x)
    np.testing.assert_array_equal(out.numpy(), x.numpy())


def test_random_erasing_rejects_bad_arguments():
    with pytest.raises(ValueError, match="it should be 'random'"):
        T.RandomErasing(value="noise")
    with pytest.raises(ValueError, match="Scale should be between 0 and 1"):
        T.RandomErasing(scale=(0.5, 1.5))
    with pytest.raises(ValueError, match="probability should be between 0 and 1"):
        T.RandomErasing(p=2)
    with pytest.raises(ValueError, match="either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(ember.rand(3, 8, 8))
    with pytest.warns(UserWarning, match="Scale and ratio should be of kind \\(min, max\\)"):
        T.RandomErasing(scale=(0.3, 0.1))
    with pytest.raises(TypeError, match="Tensor Image"):
        TF.erase(np.zeros((3, 4, 4)), 0, 0, 1, 1, 0)
