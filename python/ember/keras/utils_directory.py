"""What image_ and text_dataset_from_directory share: Keras 3's file indexing (class folders in
sorted order, files sorted within them, the seeded shuffle), its argument checks and its
training/validation split, so the same folder gives the same files, labels and class_names."""
from __future__ import annotations

import os

import numpy as np

from .utils_dataset import SampleDataset, labels_for


def check_labels_arguments(labels, label_mode, class_names, kind):
    """(labels, label_mode) after Keras' checks; either None makes both None."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                f"as the number of {kind} files in the target directory. If you wish to infer "
                "the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains '
                f"{kind} samples (no labels), pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def check_validation_split_arg(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError("`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def _class_folders(directory, class_names):
    folders = [name.rstrip("/") for name in sorted(os.listdir(directory))
               if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
    if class_names is None:
        return folders
    if not set(class_names).issubset(folders):
        raise ValueError("The `class_names` passed did not match the names of the "
                         "subdirectories of the target directory. Expected: "
                         f"{folders} (or a subset of it), but received: class_names={class_names}")
    return list(class_names)


def _files_under(directory, folder, follow_links, formats):
    """'folder/relative/path' of each allowed file, folders and files in sorted order."""
    top = os.path.join(directory, folder)
    found = []
    for root, _, files in sorted(os.walk(top, followlinks=follow_links), key=lambda w: w[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                found.append(os.path.join(os.path.basename(top),
                                          os.path.relpath(os.path.join(root, name), top)))
    return found


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """(file_paths, labels, class_names) as Keras' index_directory gives them."""
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Could not find directory {directory}")
    if labels == "inferred":
        folders = _class_folders(directory, class_names)
    elif class_names is not None:
        raise ValueError("When `labels=None` (no labels), argument `class_names` cannot be "
                         "specified." if labels is None else
                         "When argument `labels` is specified, argument `class_names` cannot be "
                         "specified (the `class_names` will be the sorted list of labels).")
    else:
        folders = [""]
    filenames, inferred = [], []
    for index, folder in enumerate(folders):
        found = _files_under(directory, folder, follow_links, formats)
        filenames += found
        inferred += [index] * len(found)
    if labels == "inferred":
        class_names = folders
        labels = np.array(inferred, dtype="int32")
    elif labels is None:
        class_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError(
                "Expected the lengths of `labels` to match the number of files in the target "
                f"directory. len(labels) is {len(labels)} while we found {len(filenames)} "
                f"files in directory {directory}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = list(labels)
    if verbose:
        print(f"Found {len(filenames)} files." if labels is None else
              f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, name) for name in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return file_paths, labels, class_names


def check_format(op, format):
    """ember returns its NumPy-batch datasets for Keras' default format "tf"."""
    if format == "grain":
        raise NotImplementedError(f"{op}: format='grain' is not supported by ember; the "
                                  "default returns NumPy batches")
    if format != "tf":
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')


def index_for_datasets(directory, labels, label_mode, class_names, formats, split, shuffle,
                       seed, follow_links, verbose):
    """(file_paths, labels, class_names, seed) after the split checks, with the seed drawn
    when none was given (one seed orders the files and shuffles every pass)."""
    check_validation_split_arg(*split, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle,
        seed=seed, follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    return paths, labels, class_names, seed


def training_or_validation_split(samples, labels, validation_split, subset):
    """The last ``validation_split`` of the samples for validation, the rest for training."""
    if not validation_split:
        return samples, labels
    count = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - count} files for training.")
        return samples[:-count], (None if labels is None else labels[:-count])
    if subset == "validation":
        print(f"Using {count} files for validation.")
        return samples[-count:], (None if labels is None else labels[-count:])
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def directory_datasets(directory, paths, labels, class_names, label_mode, split, batch_size,
                       shuffle, seed, loader, what):
    """The dataset (or [training, validation] pair for subset "both") over ``paths``;
    ``split`` is (validation_split, subset); ``loader(paths)`` gives the function loading
    sample i; ``what`` = (the files' name, the allowed formats) for the empty-subset error."""
    validation_split, subset = split

    def dataset(subset_name, shuffled):
        subset_paths, subset_labels = training_or_validation_split(
            paths, labels, validation_split, subset_name)
        if not subset_paths:
            which = f"{subset_name} " if subset == "both" else ""
            raise ValueError(f"No {which}{what[0]} found in directory {directory}. {what[1]}")
        targets = None if label_mode is None else labels_for(
            subset_labels, label_mode, len(class_names))
        result = SampleDataset(len(subset_paths), loader(subset_paths), targets,
                               batch_size=batch_size, shuffle=shuffled, seed=seed)
        result.class_names, result.file_paths = class_names, subset_paths
        return result

    if subset == "both":
        return [dataset("training", shuffle), dataset("validation", False)]
    return dataset(subset, shuffle)
