"""Nested structures of layer arguments (a tensor, or lists, tuples and dicts of them)."""
from __future__ import annotations


def flatten(structure) -> list:
    """The leaves of ``structure`` in order; dicts in sorted key order, as Keras (dm-tree)
    flattens them."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(fn, structure):
    """``structure`` with ``fn`` applied to every leaf (lists, tuples and dicts kept)."""
    if isinstance(structure, list):
        return [map_structure(fn, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(fn, structure[key]) for key in sorted(structure)}
    return fn(structure)


def pack_like(structure, flat: list):
    """The leaves ``flat`` arranged as ``structure`` (the inverse of flatten)."""
    leaves = iter(flat)
    return map_structure(lambda _: next(leaves), structure)
