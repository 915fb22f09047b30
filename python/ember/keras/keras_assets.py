"""The ``assets/`` of a ``.keras`` zip: the vocabularies of StringLookup, IntegerLookup and
TextVectorization layers that were adapted (a vocabulary given to the constructor is in the
config instead). Keras writes ``assets/<layer path>/vocabulary.txt``, one token per line, the
special tokens first; the layer path is the one of the weights (keras_h5_layout.py)."""
from __future__ import annotations

from .keras_h5_layout import layout as keras_layout
from .layers.preprocessing.index_lookup import IndexLookup
from .layers.preprocessing.text_vectorization import TextVectorization

_FILE = "vocabulary.txt"


def _lookup(layer):
    """The IndexLookup whose vocabulary the file at this layer's path holds, or None."""
    if isinstance(layer, TextVectorization):
        layer = layer._lookup_layer
    if isinstance(layer, IndexLookup) and layer.input_vocabulary is None:
        return layer
    return None


def adapted_vocabulary(layer) -> bool:
    """Whether ``layer`` holds a vocabulary from ``adapt`` (which its config does not carry)."""
    lookup = _lookup(layer)
    return lookup is not None and bool(lookup._tokens)


def _checked(lookup, path):
    if lookup.output_mode == "tf_idf":
        raise NotImplementedError(f"{path}: an adapted lookup layer in tf_idf mode (its idf "
                                  "weights) is not saved in Keras' format by ember")
    return lookup


def entries(model) -> dict:
    """{zip entry name: bytes} of the model's adapted vocabularies."""
    out = {}
    for path, layer in keras_layout(model).objects:
        if adapted_vocabulary(layer):
            lookup = _lookup(layer)
            tokens = _checked(lookup, path).get_vocabulary(include_special_tokens=True)
            out[f"assets/{path}/{_FILE}"] = "\n".join(str(t) for t in tokens).encode("utf8")
    return out


def restore(model, read_entry, source: str):
    """Sets each adapted vocabulary ``read_entry(name)`` finds (None when absent) from the zip."""
    for path, layer in keras_layout(model).objects:
        lookup = _lookup(layer)
        data = read_entry(f"assets/{path}/{_FILE}") if lookup is not None else None
        if data is None:
            continue
        try:
            lines = data.decode("utf8").splitlines()
        except UnicodeDecodeError:
            raise ValueError(f"{source}: the vocabulary of layer '{layer.name}' is not "
                             "UTF-8 text") from None
        while lines and lines[-1] == "":
            lines.pop()
        _checked(lookup, source)
        if type(lookup).__name__ == "IntegerLookup":
            try:
                lines = [int(line) for line in lines]
            except ValueError:
                raise ValueError(f"{source}: the vocabulary of IntegerLookup '{layer.name}' "
                                 "holds a token that is not an integer") from None
        if lines:
            lookup.set_vocabulary(lines)
