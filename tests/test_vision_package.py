"""ember.vision as a package: the torchvision layout, optional Pillow, never imported by ember."""
import subprocess
import sys

import pytest

import ember


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


def test_import_ember_imports_neither_vision_nor_pillow():
    result = _run("import sys, ember, ember.nn, ember.utils.data\n"
                  "print('ember.vision' in sys.modules, 'PIL' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_import_ember_vision_does_not_import_pillow():
    result = _run("import sys\nimport ember.vision as torchvision\n"
                  "torchvision.transforms.Normalize((0.5,), (0.5,))\n"
                  "print('PIL' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]


def test_torchvision_names_are_where_scripts_look_for_them():
    import ember.vision as torchvision
    from ember.vision import datasets, transforms, utils
    assert torchvision.transforms is transforms and torchvision.datasets is datasets
    for name in ("Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Resize",
                 "CenterCrop", "RandomCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
                 "RandomRotation", "RandomResizedCrop", "Grayscale", "Pad", "Lambda",
                 "ConvertImageDtype", "InterpolationMode", "ColorJitter", "RandomApply",
                 "RandomChoice", "RandomOrder", "RandomGrayscale", "RandomErasing", "RandomAffine",
                 "GaussianBlur", "RandomInvert", "RandomPosterize", "RandomSolarize",
                 "RandomAutocontrast", "RandomAdjustSharpness", "FiveCrop", "TenCrop"):
        assert hasattr(transforms, name), name
    for name in ("MNIST", "FashionMNIST", "KMNIST", "EMNIST", "FakeData", "CIFAR10", "CIFAR100",
                 "ImageFolder", "DatasetFolder"):
        assert hasattr(datasets, name), name
    assert callable(utils.make_grid) and callable(utils.save_image)
    assert callable(torchvision.io.read_image) and torchvision.io.ImageReadMode.RGB
    assert callable(transforms.functional.to_tensor)
    # Transforms that are modules in torchvision are modules here too.
    assert isinstance(transforms.Normalize((0.5,), (0.5,)), ember.nn.Module)
    flip = transforms.RandomHorizontalFlip()
    assert flip.apply(lambda module: None) is flip  # Module.apply is still Module.apply


def test_without_pillow_the_error_names_the_extra(monkeypatch):
    from ember.vision import transforms
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match='pip install "ember\\[vision\\]"'):
        transforms.ToPILImage()(ember.rand(3, 2, 2))
