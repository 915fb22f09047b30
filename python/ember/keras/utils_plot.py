"""keras.utils.model_to_dot and plot_model: the layer graph of a Sequential or functional model
as a pydot graph, and drawn to an image file by Graphviz (the optional ``plot`` extra installs
pydot; Graphviz's ``dot`` program comes from the system, as for Keras). Labels follow Keras 3:
name and class, and optionally shapes, dtype, activation and trainability."""
from __future__ import annotations

import os

from .engine import tree
from .models import Functional, Sequential  # models first: it imports functional at its end


def _pydot(op):
    try:
        import pydot
    except ImportError as error:
        raise ImportError(f'{op} needs pydot: pip install "ember[plot]" (and Graphviz, '
                          "https://graphviz.gitlab.io/download/, to draw images)") from error
    return pydot


def _check_graphviz(pydot):
    failures = tuple(getattr(pydot, name) for name in ("PydotException", "InvocationException")
                     if hasattr(pydot, name))
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError,) + failures as error:
        raise ImportError("plot_model needs Graphviz's dot program on the PATH (see "
                          "https://graphviz.gitlab.io/download/); model_to_dot works without "
                          "it") from error


def _shape_text(layer, which):
    try:
        shape = tree.map_structure(lambda t: t.shape, getattr(layer, which))
    except (ValueError, AttributeError):
        return "?"
    text = ", ".join(f"{k}: {v}" for k, v in shape.items()) if isinstance(shape, dict) \
        else f"{shape}"
    return text.replace("}", "").replace("{", "")


def _activation_name(activation):
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) or \
        str(activation)


def _cell(text, color="white"):
    font = "" if color == "white" else ' color="white"'
    return f'<td bgcolor="{color}"><font point-size="14"{font}>{text}</font></td>'


def _label(layer, show_layer_names, show_layer_activations, show_dtype, show_shapes,
           show_trainable):
    """Keras' HTML-like table: a black title row, then one row of the requested details."""
    class_name = type(layer).__name__
    span = max(1, int(show_dtype) + int(show_trainable) + (2 if show_shapes else 0))
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    rows = [f'<tr><td colspan="{span}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td></tr>"]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        rows.append(f'<tr><td bgcolor="white" colspan="{span}"><font point-size="14">'
                    f"Activation: <b>{_activation_name(activation)}</b></font></td></tr>")
    cells = []
    if show_shapes:
        if class_name != "InputLayer":
            cells.append(_cell(f"Input shape: <b>{_shape_text(layer, 'input')}</b>"))
        cells.append(_cell(f"Output shape: <b>{_shape_text(layer, 'output')}</b>"))
    if show_dtype:
        try:
            dtype = tree.map_structure(lambda t: t.dtype, layer.output)
        except (ValueError, AttributeError):
            dtype = None
        cells.append(_cell(f"Output dtype: <b>{dtype or '?'}</b>"))
    if show_trainable and layer.weights:
        cells.append(_cell("<b>Trainable</b>", "forestgreen") if layer.trainable else
                     _cell("<b>Non-trainable</b>", "firebrick"))
    if cells:
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            + "".join(rows) + "</table>>")


def _entry(layer, index=0):
    """The drawn node an edge into ``layer`` ends at once nested models are expanded."""
    while isinstance(layer, (Sequential, Functional)):
        layer = layer.layers[0] if isinstance(layer, Sequential) else \
            layer.inputs[index]._keras_history[0]
    return layer


def _exit(layer, index=0):
    """The drawn node an edge out of ``layer`` starts from once nested models are expanded."""
    while isinstance(layer, (Sequential, Functional)):
        if isinstance(layer, Sequential):
            layer = layer.layers[-1]
        else:
            layer, _, index = tree.flatten(layer.outputs)[index]._keras_history
    return layer


def _edges(model):
    """(source layer, its output index, destination layer, its input index) of each link."""
    if isinstance(model, Sequential):
        layers = model.layers
        return [(a, 0, b, 0) for a, b in zip(layers, layers[1:])]
    links = []
    for node in model._nodes:
        for position, tensor in enumerate(node.input_tensors):
            source, _, index = tensor._keras_history
            links.append((source, index, node.layer, position))
    return links


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """A ``pydot.Dot`` (a ``pydot.Cluster`` with ``subgraph=True``) with one node per layer
    and an edge per connection; ``expand_nested`` draws nested models as dashed clusters."""
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise TypeError(f"model_to_dot: unrecognized keyword arguments: {sorted(kwargs)}")
    pydot = _pydot("model_to_dot")
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    label_options = (show_layer_names, show_layer_activations, show_dtype, show_shapes,
                     show_trainable)

    def add_node(layer):
        node = pydot.Node(str(id(layer)), label=_label(layer, *label_options))
        for key, value in (("fontname", "Helvetica"), ("border", "0"), ("margin", "0")):
            node.set(key, value)
        dot.add_node(node)

    if not isinstance(model, (Sequential, Functional)):
        add_node(model)  # a subclassed model is one box, as in Keras
        return dot
    for layer in model.layers:
        if expand_nested and isinstance(layer, (Sequential, Functional)):
            dot.add_subgraph(model_to_dot(
                layer, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                subgraph=True, show_layer_activations=show_layer_activations,
                show_trainable=show_trainable))
        else:
            add_node(layer)
    for source, out_index, destination, in_index in _edges(model):
        if expand_nested:
            source, destination = _exit(source, out_index), _entry(destination, in_index)
        src, dst = str(id(source)), str(id(destination))
        if not dot.get_edge(src, dst):
            edge = pydot.Edge(src, dst)
            edge.set("penwidth", "2")
            dot.add_edge(edge)
    return dot


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho", **kwargs):
    """Draws the model's layer graph to ``to_file``; the suffix picks the format (png when
    there is none)."""
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.")
    _check_graphviz(_pydot("plot_model"))
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines, **kwargs)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:  # in a notebook, the picture shows, as with Keras
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
