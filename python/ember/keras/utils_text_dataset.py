"""keras.utils.text_dataset_from_directory: ``.txt`` files in class folders as NumPy batches
of strings (a SampleDataset with ``class_names`` and ``file_paths``), with Keras 3's arguments,
file order, labels and splits."""
from __future__ import annotations

from .utils_directory import (check_format, check_labels_arguments, directory_datasets,
                              index_for_datasets)


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A dataset of ``(texts, labels)`` batches from ``directory/<class>/<file>.txt`` (texts
    alone with ``labels=None``); each text is the file's UTF-8 content, cut to its first
    ``max_length`` characters; with ``subset="both"`` a [training, validation] pair."""
    labels, label_mode = check_labels_arguments(labels, label_mode, class_names, "text")
    check_format("text_dataset_from_directory", format)
    paths, labels, class_names, seed = index_for_datasets(
        directory, labels, label_mode, class_names, (".txt",), (validation_split, subset),
        shuffle, seed, follow_links, verbose)

    def loader(subset_paths):
        def load(index):
            with open(subset_paths[index], encoding="utf-8") as file:
                text = file.read()
            return text if max_length is None else text[:max_length]
        return load

    return directory_datasets(directory, paths, labels, class_names, label_mode,
                              (validation_split, subset), batch_size, shuffle, seed, loader,
                              ("text files", "Allowed format: .txt"))
