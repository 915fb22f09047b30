"""keras.preprocessing: ``sequence`` (``pad_sequences``), ``image`` (load_img and friends) and
the dataset utilities, as Keras 3 exports them here too."""
from . import image, sequence
from ..utils_image_dataset import image_dataset_from_directory
from ..utils_text_dataset import text_dataset_from_directory
from ..utils_timeseries import timeseries_dataset_from_array

__all__ = ["image", "image_dataset_from_directory", "sequence", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]
