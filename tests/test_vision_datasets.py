"""ember.vision.datasets on small fake files written in the real formats."""
import gzip
import pickle

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember.vision import datasets, transforms

Image = pytest.importorskip("PIL.Image")


def write_idx(path, array, gz=False):
    header = np.array([0x800 + array.ndim, *array.shape], dtype=">u4").tobytes()
    data = header + array.astype(np.uint8).tobytes()
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def write_mnist(root, name="MNIST", n_train=12, n_test=5, gz=False, seed=0):
    rng = np.random.default_rng(seed)
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28)).astype(np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images, gz)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, gz)
        arrays[prefix] = images, labels
    return arrays


# ---- MNIST family -------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_items_are_grayscale_pil_images_and_int_labels(tmp_path, gz):
    arrays = write_mnist(tmp_path, gz=gz)
    train = datasets.MNIST(str(tmp_path), train=True)
    test = datasets.MNIST(tmp_path, train=False)
    assert len(train) == 12 and len(test) == 5
    image, label = train[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(image), arrays["train"][0][3])
    assert type(label) is int and label == arrays["train"][1][3]
    assert train.data.dtype == ember.uint8 and tuple(train.data.shape) == (12, 28, 28)
    assert train.targets.dtype == ember.int64
    np.testing.assert_array_equal(test.targets.numpy(), arrays["t10k"][1])
    assert train.classes[7] == "7 - seven" and train.class_to_idx["7 - seven"] == 7


def test_mnist_applies_transform_and_target_transform_and_batches(tmp_path):
    arrays = write_mnist(tmp_path)
    transform = transforms.Compose([transforms.ToTensor(),
                                    transforms.Normalize((0.1307,), (0.3081,))])
    data = datasets.MNIST(tmp_path, transform=transform, target_transform=lambda y: y + 100)
    x, y = data[0]
    expected = (arrays["train"][0][0] / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(x.numpy()[0], expected, rtol=1e-6)
    assert y == arrays["train"][1][0] + 100
    data.target_transform = None  # set later: still used, as in torchvision
    batch_x, batch_y = next(iter(DataLoader(data, batch_size=4)))
    assert tuple(batch_x.shape) == (4, 1, 28, 28) and batch_y.dtype == ember.int64
    np.testing.assert_array_equal(batch_y.numpy(), arrays["train"][1][:4])


def test_mnist_keeps_torchvisions_deprecated_train_data_and_labels_names(tmp_path):
    # MorvanZhou's 401_CNN: `train_data.train_data.size()`, `test_data.test_labels[:2000]`.
    write_mnist(tmp_path, name="FashionMNIST")
    data = datasets.FashionMNIST(tmp_path, train=False)
    for old, new in (("train_data", "data"), ("test_data", "data"), ("train_labels", "targets"),
                     ("test_labels", "targets")):
        with pytest.warns(UserWarning, match=f"^{old} has been renamed {new}$"):
            assert getattr(data, old) is getattr(data, new)


@pytest.mark.parametrize("cls, first_class", [(datasets.FashionMNIST, "T-shirt/top"),
                                              (datasets.KMNIST, "o")])
def test_fashion_and_kuzushiji_mnist_read_their_own_folders(tmp_path, cls, first_class):
    arrays = write_mnist(tmp_path, name=cls.__name__, seed=1)
    data = cls(tmp_path, train=False)
    assert len(data) == 5 and data.classes[0] == first_class
    np.testing.assert_array_equal(np.asarray(data[4][0]), arrays["t10k"][0][4])
    with pytest.raises(RuntimeError, match="MNIST/raw"):
        datasets.MNIST(tmp_path)  # FashionMNIST's files are not MNIST's


def test_emnist_reads_the_split_files_with_the_split_classes(tmp_path):
    rng = np.random.default_rng(3)
    raw = tmp_path / "EMNIST" / "raw"
    raw.mkdir(parents=True)
    images = rng.integers(0, 256, (6, 28, 28)).astype(np.uint8)
    labels = np.array([1, 26, 3, 4, 5, 6], np.uint8)
    write_idx(raw / "emnist-letters-test-images-idx3-ubyte", images, gz=True)
    write_idx(raw / "emnist-letters-test-labels-idx1-ubyte", labels, gz=True)
    data = datasets.EMNIST(tmp_path, split="letters", train=False)
    assert data.classes[0] == "N/A" and data.classes[26] == "z" and len(data) == 6
    np.testing.assert_array_equal(np.asarray(data[2][0]), images[2])  # as stored
    assert data[1][1] == 26
    assert len(datasets.EMNIST.classes_split_dict["balanced"]) == 47
    with pytest.raises(RuntimeError, match="emnist-letters-train-images-idx3-ubyte"):
        datasets.EMNIST(tmp_path, split="letters")
    with pytest.raises(ValueError, match="Unknown value 'letter' for argument split"):
        datasets.EMNIST(tmp_path, split="letter")
    write_idx(raw / "emnist-digits-test-images-idx3-ubyte", images)
    write_idx(raw / "emnist-digits-test-labels-idx1-ubyte", labels)
    with pytest.raises(ValueError, match="EMNIST: .* holds label 26; labels are 0..9"):
        datasets.EMNIST(tmp_path, split="digits", train=False)


def test_missing_files_say_where_they_go_and_that_ember_cannot_download(tmp_path):
    with pytest.raises(RuntimeError, match="MNIST: Dataset not found") as info:
        datasets.MNIST(tmp_path)
    assert str(tmp_path / "MNIST" / "raw") in str(info.value)
    assert "train-images-idx3-ubyte[.gz]" in str(info.value)
    with pytest.raises(RuntimeError, match="ember cannot download datasets"):
        datasets.MNIST(tmp_path, download=True)
    write_mnist(tmp_path)
    assert len(datasets.MNIST(tmp_path, download=True)) == 12  # present: just loads


def test_mnist_rejects_broken_files(tmp_path):
    write_mnist(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    write_idx(raw / "train-labels-idx1-ubyte", np.zeros(11, np.uint8))
    with pytest.raises(ValueError, match="MNIST: .* holds 12 images but .* holds 11 labels"):
        datasets.MNIST(tmp_path)
    (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError, match="MNIST: train-images-idx3-ubyte holds 3 bytes"):
        datasets.MNIST(tmp_path)


def test_dataset_printout_names_split_root_and_transform(tmp_path):
    write_mnist(tmp_path)
    text = repr(datasets.MNIST(tmp_path, train=False, transform=transforms.ToTensor()))
    assert text.splitlines()[:4] == ["Dataset MNIST", "    Number of datapoints: 5",
                                     f"    Root location: {tmp_path}", "    Split: Test"]
    assert "Transform: ToTensor()" in text


# ---- CIFAR --------------------------------------------------------------------------------------
def dump_py2_style(obj, path, numpy_module="numpy.core.multiarray"):
    """Pickles like the real files (protocol 2, NumPy arrays through _reconstruct); the real
    files name numpy.core.multiarray, NumPy 2 writes numpy._core.multiarray."""
    data = pickle.dumps(obj, protocol=2)
    for module in (b"numpy._core.multiarray", b"numpy.core.multiarray"):
        data = data.replace(module + b"\n", numpy_module.encode() + b"\n")
    path.write_bytes(data)


def write_cifar(root, hundred=False, per_batch=4, numpy_module="numpy.core.multiarray"):
    rng = np.random.default_rng(2)
    folder = root / ("cifar-100-python" if hundred else "cifar-10-batches-py")
    folder.mkdir()
    labels_key = "fine_labels" if hundred else "labels"
    names = (["train"], ["test"]) if hundred else (
        [f"data_batch_{i}" for i in range(1, 6)], ["test_batch"])
    written = {}
    for name in names[0] + names[1]:
        images = rng.integers(0, 256, (per_batch, 3 * 32 * 32)).astype(np.uint8)
        labels = [int(v) for v in rng.integers(0, 100 if hundred else 10, per_batch)]
        dump_py2_style({"batch_label": "fake", labels_key: labels, "data": images},
                       folder / name, numpy_module)
        written[name] = images, labels
    meta_name, meta_key = ("meta", "fine_label_names") if hundred else ("batches.meta",
                                                                         "label_names")
    class_names = [f"class{i}" for i in range(100 if hundred else 10)]
    dump_py2_style({meta_key: class_names}, folder / meta_name, numpy_module)
    return written


@pytest.mark.parametrize("numpy_module", ["numpy.core.multiarray", "numpy._core.multiarray"])
def test_cifar10_reads_the_python_batches(tmp_path, numpy_module):
    written = write_cifar(tmp_path, numpy_module=numpy_module)
    train = datasets.CIFAR10(tmp_path, train=True)
    test = datasets.CIFAR10(tmp_path, train=False, transform=transforms.ToTensor())
    assert len(train) == 20 and len(test) == 4
    assert train.data.shape == (20, 32, 32, 3) and train.data.dtype == np.uint8
    image, label = train[5]  # the second image of data_batch_2
    flat, labels = written["data_batch_2"]
    assert isinstance(image, Image.Image) and image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(image), flat[1].reshape(3, 32, 32).transpose(1, 2, 0))
    assert label == labels[1] and type(label) is int
    x, _ = test[0]
    np.testing.assert_allclose(x.numpy(), written["test_batch"][0][0].reshape(3, 32, 32) / 255,
                               rtol=1e-6)
    assert train.classes[3] == "class3" and train.class_to_idx["class3"] == 3


def test_cifar100_uses_fine_labels(tmp_path):
    written = write_cifar(tmp_path, hundred=True, per_batch=6)
    data = datasets.CIFAR100(tmp_path, train=False)
    assert len(data) == 6 and len(data.classes) == 100
    assert data.targets == written["test"][1]


class _WritesAFile:
    """What an attacker pickles: unpickling it calls open(path, "w")."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_hostile_cifar_file_cannot_run_code(tmp_path):
    write_cifar(tmp_path)
    victim = tmp_path / "pwned.txt"
    batch = tmp_path / "cifar-10-batches-py" / "data_batch_1"
    batch.write_bytes(pickle.dumps({"data": _WritesAFile(str(victim)), "labels": []},
                                   protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="CIFAR10: the file refers to io.open"):
        datasets.CIFAR10(tmp_path)
    assert not victim.exists()
    # The same file through plain pickle does run it: the test above can fail.
    with open(batch, "rb") as file:
        pickle.load(file)["data"].close()
    assert victim.exists()


def test_cifar_missing_files_and_wrong_contents(tmp_path):
    with pytest.raises(RuntimeError, match="CIFAR10: ember cannot download") as info:
        datasets.CIFAR10(tmp_path, download=True)
    assert "cifar-10-batches-py:\n  data_batch_1\n" in str(info.value)
    write_cifar(tmp_path)
    dump_py2_style({"data": np.zeros((2, 5), np.uint8), "labels": [0, 1]},
                   tmp_path / "cifar-10-batches-py" / "test_batch")
    with pytest.raises(ValueError, match="CIFAR10: .*test_batch holds no \\(N, 3072\\) uint8"):
        datasets.CIFAR10(tmp_path, train=False)


# ---- ImageFolder / DatasetFolder ----------------------------------------------------------------
def write_image_tree(root):
    colours = {"cat": [(255, 0, 0), (250, 5, 5)], "dog": [(0, 0, 255)]}
    for class_name, pixels in colours.items():
        (root / class_name / "inner").mkdir(parents=True)
        for k, colour in enumerate(pixels):
            folder = root / class_name / ("inner" if k else "")
            Image.new("RGB", (4, 3), colour).save(folder / f"img{k}.png")
    (root / "dog" / "notes.txt").write_text("not an image")


def test_image_folder_labels_images_by_their_folder(tmp_path):
    write_image_tree(tmp_path)
    data = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    assert data.classes == ["cat", "dog"] and data.class_to_idx == {"cat": 0, "dog": 1}
    assert data.samples == [(str(tmp_path / "cat" / "img0.png"), 0),
                            (str(tmp_path / "cat" / "inner" / "img1.png"), 0),
                            (str(tmp_path / "dog" / "img0.png"), 1)]
    assert data.imgs == data.samples and data.targets == [0, 0, 1]
    x, y = data[2]
    assert tuple(x.shape) == (3, 3, 4) and y == 1
    np.testing.assert_array_equal(x.numpy()[:, 0, 0], [0.0, 0.0, 1.0])
    raw = datasets.ImageFolder(tmp_path)
    assert raw[0][0].mode == "RGB" and raw[0][0].size == (4, 3)


def test_dataset_folder_with_a_custom_loader_and_filters(tmp_path):
    for class_name, value in (("a", 1), ("b", 2)):
        (tmp_path / class_name).mkdir()
        np.save(tmp_path / class_name / "x.npy", np.full(3, value))
        (tmp_path / class_name / "skip.bin").write_bytes(b"")
    data = datasets.DatasetFolder(tmp_path, loader=np.load, extensions=(".npy",))
    assert len(data) == 2 and data[1][0].tolist() == [2, 2, 2] and data[1][1] == 1
    chosen = datasets.DatasetFolder(tmp_path, loader=np.load,
                                    is_valid_file=lambda p: p.endswith("x.npy"))
    assert [s[1] for s in chosen.samples] == [0, 1]
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None"):
        datasets.DatasetFolder(tmp_path, loader=np.load)
    (tmp_path / "c").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes c"):
        datasets.DatasetFolder(tmp_path, loader=np.load, extensions=".npy")
    allowed = datasets.DatasetFolder(tmp_path, loader=np.load, extensions=".npy",
                                     allow_empty=True)
    assert allowed.classes == ["a", "b", "c"] and len(allowed) == 2


def test_image_folder_without_class_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        datasets.ImageFolder(tmp_path)


def test_the_cifar10_tutorial_data_path(tmp_path):
    # PyTorch's "Training a classifier" tutorial up to its first batch, imports changed only.
    import ember.vision as torchvision
    import ember.vision.transforms as T
    write_cifar(tmp_path)
    transform = T.Compose([T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    trainset = torchvision.datasets.CIFAR10(root=str(tmp_path), train=True, download=True,
                                            transform=transform)
    trainloader = ember.utils.data.DataLoader(trainset, batch_size=4, shuffle=True,
                                              num_workers=0)
    classes = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
    images, labels = next(iter(trainloader))
    assert tuple(images.shape) == (4, 3, 32, 32) and labels.dtype == ember.int64
    assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
    grid = torchvision.utils.make_grid(images / 2 + 0.5)
    assert tuple(grid.shape) == (3, 32 + 4, 4 * 34 + 2)
    names = [classes[labels[j]] for j in range(4)]
    assert names == [classes[int(v)] for v in labels.numpy()]


def test_fake_data_gives_the_same_random_image_for_an_index():
    data = datasets.FakeData(size=6, image_size=(3, 5, 4), num_classes=3,
                             transform=transforms.PILToTensor())
    x, y = data[2]
    assert tuple(x.shape) == (3, 5, 4) and x.dtype == ember.uint8 and 0 <= y < 3
    again, same_y = data[2]
    np.testing.assert_array_equal(again.numpy(), x.numpy())
    assert same_y == y and len(data) == 6
    shifted = datasets.FakeData(size=6, image_size=(3, 5, 4), num_classes=3,
                                transform=transforms.PILToTensor(), random_offset=1)
    np.testing.assert_array_equal(shifted[1][0].numpy(), x.numpy())  # 1 + 1 == 2 + 0
    assert not np.array_equal(data[3][0].numpy(), x.numpy())
    assert isinstance(datasets.FakeData(2, (1, 4, 4))[0][0], Image.Image)
    with pytest.raises(IndexError, match="FakeData index out of range"):
        data[6]


def test_datasets_and_transforms_survive_pickling_for_worker_processes(tmp_path):
    write_mnist(tmp_path)
    pipeline = transforms.Compose([transforms.RandomRotation(10), transforms.ToTensor(),
                                   transforms.Normalize((0.1307,), (0.3081,))])
    data = datasets.MNIST(tmp_path, transform=pipeline)
    copy = pickle.loads(pickle.dumps(data))
    ember.manual_seed(0)
    first = data[3][0].numpy()
    ember.manual_seed(0)
    np.testing.assert_array_equal(copy[3][0].numpy(), first)
    assert copy.targets.numpy().tolist() == data.targets.numpy().tolist()


def test_random_transforms_in_worker_processes_repeat_under_manual_seed(tmp_path):
    write_mnist(tmp_path, n_train=16)
    pipeline = transforms.Compose([transforms.RandomRotation(30), transforms.ToTensor()])
    data = datasets.MNIST(tmp_path, transform=pipeline)

    def epoch():
        ember.manual_seed(5)
        loader = DataLoader(data, batch_size=4, shuffle=True, num_workers=2)
        return [(x.numpy().copy(), y.numpy().copy()) for x, y in loader]

    first, second = epoch(), epoch()
    assert len(first) == 4
    for (x1, y1), (x2, y2) in zip(first, second):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
