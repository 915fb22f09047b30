"""Keras 3's ``.weights.h5`` content (also ``model.weights.h5`` inside a ``.keras`` zip):
writing a model's weights (and a compiled model's optimizer state) and reading them back.

Reading never trusts the file: every dataset is looked up at the path the model's own layout
gives (keras_h5_layout.py), and its kind, dtype and shape are checked against the model before
a byte of it is read, so a hostile file cannot make ember allocate more than the model's own
size. Whatever h5py raises on a corrupt file becomes a ValueError naming the file.
"""
from __future__ import annotations

import warnings

import numpy as np

import ember
from . import keras_optimizer_vars as optimizer_vars
from .keras_h5_checksums import create_dataset, read_dataset
from .keras_h5_layout import layout as keras_layout


def h5py_module():
    try:
        import h5py
    except ImportError:  # pragma: no cover - a required dependency
        raise ImportError("Keras' .keras and .h5 files need h5py: pip install h5py") from None
    return h5py


def _vars_group(root, path: str, name: str):
    group = root.require_group(path)
    group.attrs["name"] = name
    return group


def write(root, model, include_optimizer: bool):
    """Writes ``model``'s weights into the open h5py File ``root`` in Keras' layout."""
    if not model.built:
        raise ValueError("save: the model has not been built, so it has no weights yet. Build it "
                         "with model.build(input_shape) or by calling it on data.")
    lay = keras_layout(model)
    for path, name in lay.groups:
        _vars_group(root, path, name)
    for path, owner, attr, p in lay.slots:
        create_dataset(root, path, np.asarray(
            owner._to_keras_layout(attr, p.detach().numpy()), dtype=np.float32))
    if include_optimizer and getattr(model, "compiled", False) and model.optimizer is not None:
        arrays = optimizer_vars.to_keras(model, lay)
        if arrays is not None:
            group = _vars_group(root, "optimizer/vars", model.optimizer.name)
            for i, arr in enumerate(arrays):
                create_dataset(group, str(i), arr)


def resolve(root, path: str, source: str):
    """The object at ``path`` under ``root``, or None. Only hard links are followed: a soft or
    external link (which could open another file, a device or a pipe) is refused."""
    h5py = h5py_module()
    item = root
    for part in [p for p in path.split("/") if p]:
        if not isinstance(item, h5py.Group):
            return None
        link = item.get(part, getlink=True)
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"{source}: '{path}' is a {type(link).__name__}; ember follows no "
                             "links out of a weights file")
        item = item[part]
    return item


def checked_array(root, path: str, shape: tuple, source: str, kinds: str = "f"):
    """The array at ``path`` after checking it is a dataset of ``shape`` and a dtype kind in
    ``kinds``, stored in this file (nothing is read before)."""
    h5py = h5py_module()
    item = resolve(root, path, source)
    if not isinstance(item, h5py.Dataset):
        raise ValueError(f"{source}: missing weight '{path}' (the model expects an array of "
                         f"shape {shape} there)")
    if tuple(item.shape) != tuple(shape):
        raise ember.ShapeError(f"{source}: shape mismatch at '{path}': the model expects "
                               f"{tuple(shape)}, the file has {tuple(item.shape)}")
    if item.dtype.kind not in kinds or item.dtype.itemsize > 8:
        raise ValueError(f"{source}: '{path}' has dtype {item.dtype}; expected "
                         f"{'a float' if kinds == 'f' else 'an integer or float'} array")
    if item.external or item.is_virtual:
        raise ValueError(f"{source}: '{path}' keeps its data outside the file; ember reads "
                         "weights stored in the file only")
    return read_dataset(item, source)


def _count(root, path: str, source: str) -> int:
    h5py = h5py_module()
    group = resolve(root, path, source)
    return len(group.keys()) if isinstance(group, h5py.Group) else 0


def read(root, model, source: str, include_optimizer: bool):
    """Loads the weights (and, if ``include_optimizer`` and the model is compiled, the
    optimizer state) from the open h5py File ``root`` into the built ``model``."""
    lay = keras_layout(model)
    expected = {}
    for path, owner, attr, p in lay.slots:
        group = path.rsplit("/", 1)[0]
        expected[group] = expected.get(group, 0) + 1
    for group, _ in lay.groups:
        found, want = _count(root, group, source), expected.get(group, 0)
        if found != want:
            raise ValueError(f"{source}: '{group}' holds {found} variables; the model's layer "
                             f"expects {want}. The file was saved from a different model.")
    assignments = []
    for path, owner, attr, p in lay.slots:
        arr = checked_array(root, path, owner._keras_shape(attr, p), source, "iuf")  # (counts)
        assignments.append((p, owner._from_keras_layout(attr, arr)))
    optimizer_arrays = None
    if include_optimizer and getattr(model, "compiled", False) and resolve(root, "optimizer", source) is not None:
        shapes = optimizer_vars.expected_shapes(model, lay)
        found = _count(root, "optimizer/vars", source)
        if shapes is None or found != len(shapes):
            warnings.warn(f"{source}: skipping the optimizer state: the file has {found} "
                          f"optimizer variables, ember's {type(model.optimizer).__name__} "
                          f"{'maps none' if shapes is None else f'has {len(shapes)}'}",
                          stacklevel=3)
        else:
            optimizer_arrays = [
                checked_array(root, f"optimizer/vars/{i}", shape, source, "f" if i else "iuf")
                for i, shape in enumerate(shapes)]
    with ember.no_grad():
        for p, arr in assignments:
            p.copy_(ember.from_numpy(np.array(arr, dtype=p.dtype.numpy, order="C")))
    if optimizer_arrays is not None:
        optimizer_vars.from_keras(model, lay, optimizer_arrays)


def read_checked(root, model, source: str, include_optimizer: bool):
    """read(), with whatever h5py raises on corrupt content as a ValueError naming the file."""
    try:
        read(root, model, source, include_optimizer)
    except (KeyError, TypeError, OSError, RuntimeError) as e:
        raise ValueError(f"{source}: corrupt weights ({type(e).__name__}: {e})") from None
