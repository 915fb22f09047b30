"""keras.utils image_dataset_from_directory, text_dataset_from_directory and
timeseries_dataset_from_array: NumPy batches that fit takes. Real Keras returns tf.data
datasets (TensorFlow is not installed here), so the file indexing, labels and splits are
compared with Keras' own index_directory/get_training_or_validation_split, each image with
Keras' Pillow loader (_load_image_grain), and windows with a direct-loop NumPy reference."""
import io
import os

import numpy as np
import pytest

from ember import keras as ek
from keras_reference import real_keras, to_numpy

Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def pictures(tmp_path):
    """cats/ (5 images, one in a nested folder), dogs/ (4), birds/ (2), plus files the
    indexer must skip (wrong suffix, hidden folder)."""
    rng = np.random.default_rng(0)
    root = tmp_path / "pictures"
    layout = {"cats": ["a.png", "b.JPG", "c.bmp", "d.gif", "deep/e.png"],
              "dogs": ["z.png", "y.jpeg", "x.png", "w.png"], "birds": ["p.png", "q.png"]}
    for folder, names in layout.items():
        for name in names:
            path = root / folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            size = tuple(int(v) for v in rng.integers(5, 12, 2))
            Image.fromarray(rng.integers(0, 256, size + (3,)).astype(np.uint8)).save(
                path, format={"jpg": "JPEG", "jpeg": "JPEG", "bmp": "BMP", "gif": "GIF"}.get(
                    name.rsplit(".", 1)[1].lower(), "PNG"))
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(root / ".hidden" / "h.png")
    return root


def _keras_index(root, formats, **kwargs):
    real_keras()
    from keras.src.utils import dataset_utils
    return dataset_utils.index_directory(str(root), formats=formats, verbose=False, **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"labels": "inferred", "shuffle": False},
    {"labels": "inferred", "shuffle": True, "seed": 11},
    {"labels": "inferred", "class_names": ["dogs", "cats"], "seed": 3},
    {"labels": None, "seed": 5},
    {"labels": [1, 0, 1, 1, 0, 2, 2, 0, 1, 0, 1, 1], "seed": 7},  # .hidden/ counts here
])
def test_files_labels_and_class_names_match_keras_index(pictures, kwargs):
    from ember.keras.utils_directory import index_directory
    formats = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
    original = kwargs["labels"]
    saved = list(original) if isinstance(original, list) else original
    theirs = _keras_index(pictures, formats, **{**kwargs, "labels": (
        list(original) if isinstance(original, list) else original)})  # Keras shuffles it
    ours = index_directory(str(pictures), formats=formats, verbose=False, **kwargs)
    assert original == saved  # ember leaves the caller's list alone
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    if kwargs["labels"] is None:
        assert ours[1] is None and theirs[1] is None
    else:
        np.testing.assert_array_equal(np.asarray(ours[1]), np.asarray(theirs[1]))


@pytest.mark.parametrize("subset", ["training", "validation"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_splits_match_keras(pictures, subset, shuffle):
    real_keras()
    from keras.src.utils import dataset_utils
    paths, labels, _ = _keras_index(pictures, (".png", ".jpg", ".jpeg", ".bmp", ".gif"),
                                    labels="inferred", seed=9, shuffle=shuffle)
    their_paths, their_labels = dataset_utils.get_training_or_validation_split(
        paths, labels, 0.3, subset)
    ds = ek.utils.image_dataset_from_directory(pictures, validation_split=0.3, subset=subset,
                                               seed=9, shuffle=shuffle, image_size=(6, 6),
                                               verbose=False)
    assert ds.file_paths == their_paths and ds.class_names == ["birds", "cats", "dogs"]
    labels_seen = np.concatenate([y for _, y in ds])
    if shuffle:  # every pass reshuffles the subset, so compare as multisets
        labels_seen = np.sort(labels_seen)
        their_labels = np.sort(their_labels)
    np.testing.assert_array_equal(labels_seen, their_labels)


@pytest.mark.parametrize("kwargs", [
    {},
    {"color_mode": "grayscale", "interpolation": "nearest"},
    {"color_mode": "rgba", "crop_to_aspect_ratio": True},
    {"pad_to_aspect_ratio": True, "data_format": "channels_first"},
])
def test_each_image_matches_keras_pillow_loader(pictures, kwargs):
    keras = real_keras()
    from keras.src.utils import image_dataset_utils
    ds = ek.utils.image_dataset_from_directory(pictures, image_size=(7, 9), batch_size=None,
                                               shuffle=False, verbose=False, **kwargs)
    channels = {"grayscale": 1, "rgba": 4}.get(kwargs.get("color_mode"), 3)
    for index, path in enumerate(ds.file_paths):
        image, label = ds[index]
        with open(path, "rb") as file:  # Keras leaves a file it opens by name unclosed
            data = io.BytesIO(file.read())
        theirs = image_dataset_utils._load_image_grain(
            data, (7, 9), channels, kwargs.get("interpolation", "bilinear"),
            kwargs.get("data_format", "channels_last"),
            kwargs.get("crop_to_aspect_ratio", False), kwargs.get("pad_to_aspect_ratio", False))
        assert image.dtype == np.float32 and image.shape == tuple(theirs.shape)
        np.testing.assert_allclose(image, to_numpy(theirs), rtol=1e-5, atol=1e-4)
        assert label == ds.class_names.index(os.path.relpath(path, pictures).split(os.sep)[0])
    assert keras  # the comparison ran against real Keras


def test_batches_labels_modes_and_shuffling(pictures):
    ds = ek.utils.image_dataset_from_directory(pictures, image_size=(8, 8), batch_size=4,
                                               label_mode="categorical", seed=1, verbose=False)
    assert len(ds) == 3 and ds.class_names == ["birds", "cats", "dogs"]
    batches = list(ds)
    assert [x.shape for x, _ in batches] == [(4, 8, 8, 3), (4, 8, 8, 3), (3, 8, 8, 3)]
    assert batches[0][1].dtype == np.float32 and batches[0][1].shape == (4, 3)
    counts = np.concatenate([y for _, y in batches]).sum(axis=0)
    np.testing.assert_array_equal(counts, [2, 5, 4])
    first = np.concatenate([x for x, _ in batches])
    second = np.concatenate([x for x, _ in ds])  # a new pass, a new order, the same images
    assert not np.array_equal(first, second)
    np.testing.assert_allclose(np.sort(first.ravel()), np.sort(second.ravel()))
    two = ek.utils.image_dataset_from_directory(
        pictures / "dogs", labels=None, image_size=(5, 5), shuffle=False, verbose=False)
    assert len(two) == 1 and list(two)[0].shape == (4, 5, 5, 3)
    pair = ek.utils.image_dataset_from_directory(
        pictures, image_size=(4, 4), validation_split=0.25, subset="both", seed=2,
        label_mode="int", verbose=False)
    assert [len(p.file_paths) for p in pair] == [9, 2]
    assert not set(pair[0].file_paths) & set(pair[1].file_paths)


def test_binary_labels_and_argument_errors(pictures, tmp_path):
    (tmp_path / "two" / "a").mkdir(parents=True)
    (tmp_path / "two" / "b").mkdir()
    for name in ("a/1.png", "b/2.png", "b/3.png"):
        Image.fromarray(np.zeros((3, 3, 3), np.uint8)).save(tmp_path / "two" / name)
    ds = ek.utils.image_dataset_from_directory(tmp_path / "two", label_mode="binary",
                                               image_size=3, shuffle=False, verbose=False)
    _, y = ds[0]
    assert y.dtype == np.float32 and y.shape == (3, 1) and y.ravel().tolist() == [0, 1, 1]
    bad = [({"label_mode": "binary"}, ValueError, "exactly 2 class_names"),
           ({"label_mode": "sparse"}, ValueError, "label_mode"),
           ({"color_mode": "hsv"}, ValueError, "color_mode"),
           ({"image_size": (3, 3, 3)}, ValueError, "image_size"),
           ({"interpolation": "cubic"}, ValueError, "interpolation"),
           ({"interpolation": "bicubic"}, NotImplementedError, "bicubic"),
           ({"validation_split": 0.2, "subset": "training"}, ValueError, "seed"),
           ({"validation_split": 0.2}, ValueError, "subset"),
           ({"class_names": ["fish"]}, ValueError, "class_names"),
           ({"labels": [0, 1]}, ValueError, "lengths of `labels`"),
           ({"labels": "folders"}, ValueError, "list/tuple"),
           ({"format": "grain"}, NotImplementedError, "grain"),
           ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, ValueError, "Only one")]
    for kwargs, error, match in bad:
        with pytest.raises(error, match=match):
            ek.utils.image_dataset_from_directory(pictures, verbose=False, **kwargs)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No images found in directory"):
        ek.utils.image_dataset_from_directory(tmp_path / "empty", labels=None, verbose=False)
    with pytest.raises(FileNotFoundError):
        ek.utils.image_dataset_from_directory(tmp_path / "absent", verbose=False)
    with pytest.raises(TypeError):
        ek.utils.image_dataset_from_directory(pictures, smart=True)


def test_fit_takes_an_image_dataset(pictures):
    ds = ek.utils.image_dataset_from_directory(pictures, image_size=(6, 6), batch_size=4,
                                               seed=0, verbose=False)
    train, val = ek.utils.image_dataset_from_directory(
        pictures, image_size=(6, 6), batch_size=4, seed=0, validation_split=0.3,
        subset="both", verbose=False)
    model = ek.Sequential([ek.Input((6, 6, 3)), ek.layers.Rescaling(1 / 255),
                           ek.layers.Flatten(), ek.layers.Dense(3)])
    model.compile("adam", ek.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    assert model.predict(ds, verbose=0).shape == (11, 3)
    assert len(model.evaluate(ds, verbose=0)) == 2


# ---------------------------------------------------------------- text

@pytest.fixture
def reviews(tmp_path):
    root = tmp_path / "reviews"
    texts = {"neg": {"1.txt": "awful film", "2.txt": "boring, long", "3.md": "skip me"},
             "pos": {"a.txt": "a délight", "b.txt": "great cast", "c.txt": "loved it"}}
    for folder, files in texts.items():
        (root / folder).mkdir(parents=True)
        for name, text in files.items():
            (root / folder / name).write_text(text, encoding="utf-8")
    return root


def test_text_dataset(reviews):
    ds = ek.utils.text_dataset_from_directory(reviews, batch_size=2, shuffle=False,
                                              max_length=5, verbose=False)
    assert ds.class_names == ["neg", "pos"] and len(ds) == 3
    texts, labels = zip(*ds)
    assert np.concatenate(texts).tolist() == ["awful", "borin", "a dél", "great", "loved"]
    assert labels[0].dtype == np.int32 and np.concatenate(labels).tolist() == [0, 0, 1, 1, 1]
    paths, _, _ = _keras_index(reviews, (".txt",), labels="inferred", seed=4)
    shuffled = ek.utils.text_dataset_from_directory(reviews, seed=4, verbose=False)
    assert shuffled.file_paths == paths
    only = ek.utils.text_dataset_from_directory(reviews, labels=None, batch_size=None,
                                                shuffle=False, verbose=False)
    assert list(only) == ["awful film", "boring, long", "a délight", "great cast", "loved it"]
    with pytest.raises(ValueError, match="No training text files"):
        ek.utils.text_dataset_from_directory(reviews, validation_split=0.1, subset="both",
                                             seed=1, verbose=False)


def test_found_messages_as_keras_prints_them(reviews, capsys):
    ek.utils.text_dataset_from_directory(reviews, validation_split=0.4, subset="validation",
                                         seed=1)
    assert capsys.readouterr().out == ("Found 5 files belonging to 2 classes.\n"
                                       "Using 2 files for validation.\n")


# ---------------------------------------------------------------- timeseries

def _windows(data, targets, length, stride, rate, start, end):
    """Every window by direct loops: start p, p + stride, ... while the window fits."""
    start, end = start or 0, len(data) if end is None else end
    xs, ys, p = [], [], 0
    while start + p + (length - 1) * rate < end and (targets is None or p < len(targets) - start):
        xs.append([data[start + p + k * rate] for k in range(length)])
        ys.append(None if targets is None else targets[start + p])
        p += stride
    return np.array(xs), ys


@pytest.mark.parametrize("length, stride, rate, start, end", [
    (3, 1, 1, None, None), (10, 3, 2, None, None), (4, 2, 3, 5, 60), (1, 7, 1, 2, None)])
def test_timeseries_windows_match_a_loop_reference(length, stride, rate, start, end):
    data = np.arange(100 * 2, dtype=np.float32).reshape(100, 2)
    targets = np.arange(100) * 10
    ds = ek.utils.timeseries_dataset_from_array(
        data, targets, length, sequence_stride=stride, sampling_rate=rate, batch_size=8,
        start_index=start, end_index=end)
    xs = np.concatenate([x for x, _ in ds])
    ys = np.concatenate([y for _, y in ds])
    want_x, want_y = _windows(data, targets, length, stride, rate, start, end)
    np.testing.assert_array_equal(xs, want_x)
    np.testing.assert_array_equal(ys, want_y)
    assert xs.dtype == np.float32 and ys.dtype == targets.dtype


def test_timeseries_keras_docstring_examples():
    # Keras' example 1: sampling_rate=2, sequence_stride=3 over 0..99.
    ds = ek.utils.timeseries_dataset_from_array(np.arange(100), None, sequence_length=10,
                                                sampling_rate=2, sequence_stride=3)
    first = next(iter(ds))
    assert first[0].tolist() == list(range(0, 20, 2)) and first[1].tolist() == list(
        range(3, 23, 2))
    # Example 2: targets 10 steps ahead.
    data = np.arange(100)
    ds = ek.utils.timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10,
                                                batch_size=1)
    x, y = ds[0]
    assert x.tolist() == [list(range(10))] and y.tolist() == [10]


def test_timeseries_shuffle_covers_every_window_and_checks_arguments():
    data = np.arange(50)
    ds = ek.utils.timeseries_dataset_from_array(data, data, 5, batch_size=6, shuffle=True,
                                                seed=3)
    ys = np.concatenate([y for _, y in ds])
    assert sorted(ys.tolist()) == list(range(46)) and ys.tolist() != list(range(46))
    for x, y in ds:
        np.testing.assert_array_equal(x[:, 0], y)  # each window starts at its target
    only = ek.utils.timeseries_dataset_from_array(data, None, 5, batch_size=None)
    assert len(only) == 46 and only[45].tolist() == [45, 46, 47, 48, 49]
    bad = [({"start_index": -1}, "start_index"), ({"start_index": 50}, "start_index"),
           ({"end_index": 50}, "end_index"), ({"start_index": 5, "end_index": 5}, "end_index"),
           ({"sampling_rate": 0}, "sampling_rate"), ({"sequence_stride": 50}, "sequence_stride"),
           ({"format": "jax"}, "format")]
    for kwargs, match in bad:
        with pytest.raises(ValueError, match=match):
            ek.utils.timeseries_dataset_from_array(data, None, 5, **kwargs)
    with pytest.raises(NotImplementedError, match="grain"):
        ek.utils.timeseries_dataset_from_array(data, None, 5, format="grain")


def test_fit_takes_a_timeseries_dataset():
    series = np.sin(np.arange(120) / 5).astype(np.float32)[:, None]
    ds = ek.utils.timeseries_dataset_from_array(series[:-4], series[4:, 0], 8, batch_size=16)
    model = ek.Sequential([ek.Input((8, 1)), ek.layers.Flatten(), ek.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert len(model.fit(ds, epochs=2, verbose=0).history["loss"]) == 2


def test_batch_size_must_be_positive_or_none():
    for batch_size in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="batch_size"):
            ek.utils.timeseries_dataset_from_array(np.arange(10), None, 3,
                                                   batch_size=batch_size)


# ---------------------------------------------------------------- tf.data-style methods

def test_map_take_cache_prefetch_as_keras_examples_use_them(reviews):
    """keras-io's text classification flow: adapt on the texts, vectorize in map, cache,
    prefetch, fit."""
    raw = ek.utils.text_dataset_from_directory(reviews, batch_size=2, seed=3, verbose=False)
    vectorize = ek.layers.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(raw.map(lambda x, y: x))
    assert "loved" in vectorize.get_vocabulary()
    train = raw.map(lambda x, y: (vectorize(x), y)).cache().prefetch(10)
    assert train.class_names == ["neg", "pos"] and len(train) == 3
    model = ek.Sequential([ek.Input((4,), dtype="int64"), ek.layers.Embedding(20, 3),
                           ek.layers.GlobalAveragePooling1D(), ek.layers.Dense(1)])
    model.compile("adam", ek.losses.BinaryCrossentropy(from_logits=True))
    assert len(model.fit(train, epochs=2, verbose=0).history["loss"]) == 2
    (first,) = list(raw.take(1))
    assert first[0].shape == (2,) and len(raw.take(-1)) == 3 and len(raw.take(7)) == 3


def test_cache_replays_its_first_pass_while_the_source_reshuffles(reviews):
    raw = ek.utils.text_dataset_from_directory(reviews, batch_size=None, seed=1, verbose=False)
    cached = raw.cache()
    first = [text for text, _ in cached]
    assert [text for text, _ in cached] == first  # replayed
    passes = {tuple(text for text, _ in raw) for _ in range(4)}
    assert len(passes) > 1  # the source itself reshuffles each pass
    with pytest.raises(NotImplementedError, match="memory"):
        raw.cache("/tmp/cache_file")
    with pytest.raises(ValueError, match="count"):
        raw.take(-2)
    with pytest.raises(TypeError, match="callable"):
        raw.map("lower")
