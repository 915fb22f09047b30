"""The last steps of ember.onnx.export's graph: giving the outputs their names, and (with
optimize=True) removing pairs of transposes that undo each other (the Keras face's NHWC layers
meet ONNX's NCHW operators through such pairs) and nodes nothing uses."""


def named_outputs(g, sources, output_names, input_names):
    """Makes each output name the value it stands for: the producing node's output is renamed
    when it is a node output no other output claims, else an Identity node is added."""
    produced = {out for node in g.nodes for out in node.output}
    renamed = {}
    for source, name in zip(sources, output_names):
        if source in produced and source not in renamed and source not in input_names:
            rename(g, source, name)
            renamed[source] = name
        else:
            g.nodes.append(g.helper.make_node("Identity", [renamed.get(source, source)], [name],
                                              name=g.unique(f"/Identity_{name}")))


def rename(g, old, new):
    for node in g.nodes:
        for field in (node.input, node.output):
            for i, value in enumerate(field):
                if value == old:
                    field[i] = new


def optimize_graph(g, output_names):
    _cancel_transposes(g, set(output_names))
    _remove_unused(g, set(output_names))


def _cancel_transposes(g, outputs):
    producer = {out: node for node in g.nodes for out in node.output}
    for node in list(g.nodes):
        if node.op_type != "Transpose" or node.output[0] in outputs:
            continue
        first = producer.get(node.input[0])
        if first is None or first.op_type != "Transpose":
            continue
        p1, p2 = _perm(first), _perm(node)
        if p1 is None or p2 is None or len(p1) != len(p2):
            continue
        if [p1[i] for i in p2] == list(range(len(p1))):
            # node's output is first's input again: its consumers read that instead
            rename_input(g, node.output[0], first.input[0])


def rename_input(g, old, new):
    for node in g.nodes:
        for i, value in enumerate(node.input):
            if value == old:
                node.input[i] = new


def _perm(node):
    for attr in node.attribute:
        if attr.name == "perm":
            return list(attr.ints)
    return None


def _remove_unused(g, outputs):
    """Drops nodes none of whose outputs is used, repeatedly (a chain dies from its end)."""
    while True:
        used = {value for node in g.nodes for value in node.input} | outputs
        keep = [node for node in g.nodes if any(out in used for out in node.output)]
        if len(keep) == len(g.nodes):
            break
        g.nodes[:] = keep
    used = {value for node in g.nodes for value in node.input}
    g.initializers[:] = [t for t in g.initializers if t.name in used]
