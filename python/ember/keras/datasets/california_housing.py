"""keras.datasets.california_housing: reads Keras' cached ``california_housing.npz`` (ember
never downloads)."""
from __future__ import annotations

from ..utils_file import get_file
from .housing import check_test_split, read_xy, shuffle_and_split

FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """``((x_train, y_train), (x_test, y_test))``: 8 features and median house values;
    ``version="small"`` keeps the first 600 samples; shuffled with ``seed``."""
    check_test_split(test_split)
    path = get_file(path, origin="https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
                    "california_housing.npz", file_hash=FILE_HASH)
    x, y = read_xy(path, "keras.datasets.california_housing.load_data")
    if version == "small":
        x, y = x[:600], y[:600]
    elif version != "large":
        raise ValueError("Argument `version` must be one of 'small', 'large'. Received: "
                         f"version={version}")
    return shuffle_and_split(x, y, test_split, seed)
