"""keras.utils.model_to_dot / plot_model: the same nodes, labels and edges as real Keras 3's
on the same architecture (needs pydot, the `plot` extra); the image needs Graphviz's dot; without
pydot both raise an ImportError naming the extra."""
import shutil
import sys

import pytest

from ember import keras as ek
from keras_reference import real_keras

OPTIONS = [{}, {"show_shapes": True}, {"show_dtype": True, "show_layer_names": False},
           {"show_layer_activations": True, "show_trainable": True, "show_shapes": True}]


def _functional(k):
    inputs = k.Input((4,), name="x")
    shared = k.layers.Dense(3, name="shared", activation="relu")
    left = shared(inputs)
    right = shared(k.layers.Dense(4, name="pre")(inputs))
    frozen = k.layers.Dense(3, name="frozen")
    frozen.trainable = False
    return k.Model(inputs, frozen(k.layers.Add(name="add")([left, right])), name="net")


def _sequential(k):
    return k.Sequential([k.Input((3,), name="seq_in"), k.layers.Dense(2, name="a"),
                         k.layers.Dropout(0.1, name="drop"), k.layers.Dense(1, name="b")],
                        name="seq")


def _nested(k):
    inner = _sequential(k)
    inputs = k.Input((3,), name="outer_in")
    return k.Model(inputs, k.layers.Dense(2, name="head")(inner(inputs)), name="outer")


def _graph(dot):
    """{node name: label} and {(source name, destination name)} with ids replaced by names."""
    names = {}
    for node in dot.get_nodes() + [n for g in dot.get_subgraphs() for n in g.get_nodes()]:
        if node.get_name() in ("node", "graph", "edge"):
            continue
        label = node.get("label")
        names[node.get_name()] = label
    edges = {(names[e.get_source()], names[e.get_destination()])
             for e in dot.get_edges() + [e for g in dot.get_subgraphs() for e in g.get_edges()]}
    return sorted(names.values()), edges


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("build, expand, boxes, links", [
    (_functional, False, 5, 5), (_sequential, False, 3, 2), (_nested, False, 3, 2),
    (_nested, True, 5, 4)])
def test_model_to_dot_matches_real_keras(build, expand, boxes, links, options):
    pytest.importorskip("pydot")
    keras = real_keras()
    from keras.src.utils import model_visualization
    ours = ek.utils.model_to_dot(build(ek), expand_nested=expand, **options)
    theirs = model_visualization.model_to_dot(build(keras), expand_nested=expand, **options)
    assert _graph(ours) == _graph(theirs)
    labels, edges = _graph(ours)
    assert len(labels) == boxes
    if options.get("show_layer_names", True):  # labels name the boxes, so edges are distinct
        assert len(edges) == links
    assert [ours.get(k) for k in ("rankdir", "dpi", "splines")] == \
        [theirs.get(k) for k in ("rankdir", "dpi", "splines")]
    assert len(ours.get_subgraphs()) == len(theirs.get_subgraphs()) == int(expand)


def test_model_to_dot_arguments():
    pytest.importorskip("pydot")
    model = _sequential(ek)
    with pytest.raises(ValueError, match="layer_range"):
        ek.utils.model_to_dot(model, layer_range=["a", "b"])
    with pytest.raises(TypeError):
        ek.utils.model_to_dot(model, show_everything=True)
    with pytest.raises(ValueError, match="not yet been built"):
        ek.utils.model_to_dot(ek.Sequential([ek.layers.Dense(2)]))
    assert ek.utils.model_to_dot(model, rankdir="LR", dpi=96).get("rankdir") == "LR"


def test_plot_model_writes_a_png(tmp_path):
    pytest.importorskip("pydot")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    path = tmp_path / "model.png"
    ek.utils.plot_model(_functional(ek), to_file=path, show_shapes=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_without_pydot_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)  # import pydot now fails
    model = _sequential(ek)
    for function in (ek.utils.plot_model, ek.utils.model_to_dot):
        with pytest.raises(ImportError, match=r'pip install "ember\[plot\]"'):
            function(model)


def test_without_graphviz_plot_model_says_so(tmp_path):
    pytest.importorskip("pydot")
    if shutil.which("dot") is not None:
        pytest.skip("Graphviz's dot program is installed")
    with pytest.raises(ImportError, match="Graphviz"):
        ek.utils.plot_model(_sequential(ek), to_file=tmp_path / "m.png")
    assert not (tmp_path / "m.png").exists()
