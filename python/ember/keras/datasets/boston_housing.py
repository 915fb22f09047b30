"""keras.datasets.boston_housing: reads Keras' cached ``boston_housing.npz`` (ember never
downloads)."""
from __future__ import annotations

from ..utils_file import get_file
from .housing import check_test_split, read_xy, shuffle_and_split

FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``((x_train, y_train), (x_test, y_test))``: 13 float64 features and prices, shuffled
    with ``seed``, the last ``test_split`` for testing."""
    check_test_split(test_split)
    path = get_file(path, origin="https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
                    "boston_housing.npz", file_hash=FILE_HASH)
    x, y = read_xy(path, "keras.datasets.boston_housing.load_data")
    return shuffle_and_split(x, y, test_split, seed)
