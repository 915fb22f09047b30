"""ember.datasets.load_digits: shapes, dtypes, ranges, determinism, stratification, errors."""

import numpy as np
import pytest

from ember.datasets import load_digits


def _all_images(splits):
    (x_train, y_train), (x_test, y_test) = splits
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


def test_default_split_matches_keras_mnist_layout():
    (x_train, y_train), (x_test, y_test) = load_digits()
    assert x_train.shape == (1437, 8, 8) and y_train.shape == (1437,)
    assert x_test.shape == (360, 8, 8) and y_test.shape == (360,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert x_train.max() == 16 and x_test.max() == 16
    assert x_train.min() == 0 and x_test.min() == 0
    assert set(np.unique(y_train)) == set(range(10))
    assert set(np.unique(y_test)) == set(range(10))


def test_splits_partition_the_whole_dataset():
    x, y = _all_images(load_digits())
    assert len(y) == 1797
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # No image is duplicated between or within the splits (rows are unique in the source).
    assert len(np.unique(np.column_stack([x.reshape(len(x), -1), y]), axis=0)) == 1797


def test_first_source_image_is_a_zero():
    # First row of the UCI/scikit-learn file: guards against a transposed or shifted layout.
    x, y = _all_images(load_digits())
    first_row = np.array([0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0], dtype=np.uint8)
    matches = np.flatnonzero((x.reshape(len(x), -1)[:, :16] == first_row).all(axis=1))
    assert len(matches) >= 1 and (y[matches] == 0).all()


def test_same_seed_gives_same_split_and_other_seed_differs():
    (a_train, a_labels), (a_test, _) = load_digits(seed=3)
    (b_train, b_labels), (b_test, _) = load_digits(seed=3)
    (c_train, _), _ = load_digits(seed=4)
    np.testing.assert_array_equal(a_train, b_train)
    np.testing.assert_array_equal(a_labels, b_labels)
    np.testing.assert_array_equal(a_test, b_test)
    assert not np.array_equal(a_train, c_train)


def test_numpy_scalars_are_accepted_like_python_numbers():
    (x_np, _), (x_test_np, _) = load_digits(test_fraction=np.float32(0.2), seed=np.int64(7))
    (x_py, _), (x_test_py, _) = load_digits(test_fraction=0.2, seed=7)
    np.testing.assert_array_equal(x_np, x_py)
    np.testing.assert_array_equal(x_test_np, x_test_py)


def test_split_is_stratified():
    (_, y_train), (_, y_test) = load_digits(test_fraction=0.5, seed=1)
    test_counts = np.bincount(y_test, minlength=10)
    total_counts = test_counts + np.bincount(y_train, minlength=10)
    assert len(y_test) == 899
    assert np.all(np.abs(test_counts - 0.5 * total_counts) <= 1)


def test_training_split_is_shuffled_across_classes():
    # Keras' validation_split takes the last rows: they must not all be one class.
    (_, y_train), _ = load_digits()
    assert set(np.unique(y_train[-144:])) == set(range(10))


@pytest.mark.parametrize("fraction", [0.006, 0.99])
def test_extreme_fractions_keep_every_class_in_both_splits(fraction):
    (_, y_train), (_, y_test) = load_digits(test_fraction=fraction)
    assert len(y_train) + len(y_test) == 1797
    assert set(np.unique(y_train)) == set(np.unique(y_test)) == set(range(10))


def test_returned_arrays_are_independent_copies():
    (x_train, _), _ = load_digits()
    x_train[:] = 0
    (x_again, _), _ = load_digits()
    assert x_again.max() == 16


@pytest.mark.parametrize("fraction", [0, 1, 0.0, 1.0, -0.2, 1.5, float("nan"), "0.2", None, True])
def test_bad_test_fraction_is_rejected(fraction):
    with pytest.raises(ValueError, match=r"load_digits: test_fraction .*Received: test_fraction="):
        load_digits(test_fraction=fraction)


def test_fraction_leaving_a_split_smaller_than_the_classes_is_rejected():
    with pytest.raises(ValueError, match="fewer images than classes"):
        load_digits(test_fraction=0.001)
    with pytest.raises(ValueError, match="fewer images than classes"):
        load_digits(test_fraction=0.999)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(ValueError, match=r"load_digits: seed .*Received: seed="):
        load_digits(seed=seed)
