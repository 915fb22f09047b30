"""Hostile ONNX files give a clear ember error naming the file (and the node, where there is
one): never a crash, a hang or an allocation the file cannot back."""
import os

import numpy as np
import pytest

from onnx_load_helpers import graph_model, helper, onnx

import ember
from ember import OutOfMemoryError

rng = np.random.default_rng(11)
CLEAR = (ValueError, NotImplementedError, TypeError, IndexError, RuntimeError)


def small_model():
    """Gemm -> Relu -> Reshape -> Softmax: a few hundred bytes touching several field kinds."""
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], name="fc", transB=1),
             helper.make_node("Relu", ["h"], ["r"], name="act"),
             helper.make_node("Reshape", ["r", "shape"], ["s"], name="flat"),
             helper.make_node("Softmax", ["s"], ["y"], name="soft", axis=1)]
    init = {"w": rng.standard_normal((3, 4)).astype(np.float32),
            "b": rng.standard_normal(3).astype(np.float32),
            "shape": np.array([2, -1], np.int64)}
    return graph_model(nodes, {"x": np.zeros((2, 4), np.float32)}, ["y"], init)


def single_node(node, inputs=None, init=None, dynamic=False):
    inputs = {"x": np.zeros((2, 3), np.float32)} if inputs is None else inputs
    return graph_model([node], inputs, list(node.output), init, dynamic=dynamic)


def test_the_valid_model_loads():
    out = ember.onnx.load(small_model())(ember.zeros(2, 4))
    assert tuple(out.shape) == (2, 3)


def test_truncated_files_are_refused(tmp_path):
    data = small_model()
    for cut in range(0, len(data), 7):
        path = tmp_path / "cut.onnx"
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cut.onnx"):
            ember.onnx.load(path)


@pytest.mark.parametrize("size", [0, 1, 17, 300, 5000])
def test_random_bytes_are_refused(size):
    for seed in range(20):
        data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
        with pytest.raises(ValueError, match=r"<bytes>"):
            ember.onnx.load(data)


def test_every_flipped_byte_loads_or_fails_clearly():
    """Flipping any byte gives either a model that runs (a changed weight is still a model;
    ONNX has no checksums) or one of ember's errors naming the source."""
    data = small_model()
    x = ember.from_numpy(rng.standard_normal((2, 4)).astype(np.float32))
    outcomes = {"ran": 0, "refused": 0}
    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 0xFF
        try:
            ember.onnx.load(bytes(flipped))(x)
            outcomes["ran"] += 1
        except CLEAR as err:
            assert "<bytes>" in str(err), (i, err)
            outcomes["refused"] += 1
    assert outcomes["ran"] and outcomes["refused"]


def test_huge_claimed_initializer_dims_allocate_nothing():
    tensor = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT,
                              dims=[2**40, 2**40], raw_data=b"\0" * 16)
    node = helper.make_node("Add", ["x", "w"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, [2])],
                              [helper.make_empty_tensor_value_info("y")], initializer=[tensor])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(ValueError, match=r"initializer 'w'.*needs \d+ bytes.*holds 16"):
        ember.onnx.load(data.SerializeToString())


def test_typed_field_with_too_few_values_is_refused():
    tensor = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[1000, 1000],
                              float_data=[1.0, 2.0])
    node = helper.make_node("Add", ["x", "w"], ["y"])
    with pytest.raises(ValueError, match=r"initializer 'w'.*needs 1000000 values.*holds 2"):
        ember.onnx.load(_with_initializer(node, tensor))


def _with_initializer(node, tensor):
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, [2])],
                              [helper.make_empty_tensor_value_info("y")], initializer=[tensor])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]) \
        .SerializeToString()


def test_negative_dims_and_unsupported_types_are_refused():
    bad = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[-1],
                           raw_data=b"")
    with pytest.raises(ValueError, match="negative dimension"):
        ember.onnx.load(_with_initializer(helper.make_node("Add", ["x", "w"], ["y"]), bad))
    text = helper.make_tensor("w", onnx.TensorProto.STRING, [1], [b"a"])
    with pytest.raises(NotImplementedError, match="STRING"):
        ember.onnx.load(_with_initializer(helper.make_node("Add", ["x", "w"], ["y"]), text))
    odd = onnx.TensorProto(name="w", data_type=99, dims=[1], raw_data=b"\0")
    with pytest.raises(ValueError, match="data type 99"):
        ember.onnx.load(_with_initializer(helper.make_node("Add", ["x", "w"], ["y"]), odd))


def test_huge_sizes_computed_at_run_time_are_refused_before_allocating():
    node = helper.make_node("ConstantOfShape", ["s"], ["y"], name="zeros")
    model = ember.onnx.load(single_node(node, {"s": np.array([1], np.int64)}, dynamic=True))
    with pytest.raises(OutOfMemoryError, match=r"node 'zeros' \(ConstantOfShape\)"):
        model(ember.tensor([2**31, 2**31]))
    node = helper.make_node("Expand", ["x", "s"], ["y"], name="wide")
    model = ember.onnx.load(single_node(node, {"x": np.zeros((1, 1), np.float32),
                                               "s": np.array([1, 1], np.int64)}, dynamic=True))
    with pytest.raises(OutOfMemoryError, match=r"node 'wide' \(Expand\)"):
        model(ember.zeros(1, 1), ember.tensor([2**31, 2**31]))
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[2**40] * 4)
    model = ember.onnx.load(single_node(node, {"x": np.zeros((1, 1, 2, 2), np.float32)},
                                        {"w": np.ones((1, 1, 1, 1), np.float32)}))
    with pytest.raises(CLEAR, match=r"node 'conv' \(Conv\)"):
        model(ember.zeros(1, 1, 2, 2))


def test_graph_input_shapes_are_enforced():
    node = helper.make_node("Relu", ["x"], ["y"])
    model = ember.onnx.load(single_node(node, {"x": np.zeros((2, 3), np.float32)}))
    with pytest.raises(ValueError, match=r"input 'x' must have shape \(2, 3\), got \(2, 4\)"):
        model(ember.zeros(2, 4))
    with pytest.raises(TypeError, match=r"input 'x' must be of dtype float32"):
        model(ember.zeros(2, 3, dtype=ember.int64))
    with pytest.raises(TypeError, match="takes 1 input"):
        model(ember.zeros(2, 3), ember.zeros(2, 3))


def _external_model(tmp_path, location, offset=0, length=None):
    w = np.arange(6, dtype=np.float32)
    tensor = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[6],
                              data_location=onnx.TensorProto.EXTERNAL)
    for key, value in (("location", location), ("offset", str(offset)),
                       ("length", str(len(w.tobytes()) if length is None else length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", 1, [6])],
                              [helper.make_empty_tensor_value_info("y")], initializer=[tensor])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "model" / "m.onnx"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path, w


def test_external_data_inside_the_model_folder_is_read(tmp_path):
    path, w = _external_model(tmp_path, "weights.bin", offset=8)
    (path.parent / "weights.bin").write_bytes(b"\1" * 8 + w.tobytes())
    out = ember.onnx.load(path)(ember.ones(6)).detach()
    np.testing.assert_array_equal(out.numpy(), w + 1)
    with pytest.raises(ValueError, match="external file.*only for a model loaded from its path"):
        ember.onnx.load(path.read_bytes())


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd", "sub/../../secret.bin",
                                      "link.bin", "", "missing.bin"])
def test_external_data_outside_the_folder_or_missing_is_refused(tmp_path, location):
    path, w = _external_model(tmp_path, location)
    (tmp_path / "secret.bin").write_bytes(w.tobytes())
    os.symlink(tmp_path / "secret.bin", path.parent / "link.bin")
    with pytest.raises(ValueError, match=r"initializer 'w': external data"):
        ember.onnx.load(path)


def test_external_data_of_wrong_size_or_kind_is_refused(tmp_path):
    path, w = _external_model(tmp_path, "weights.bin", length=4)
    (path.parent / "weights.bin").write_bytes(w.tobytes())
    with pytest.raises(ValueError, match="do not fit the tensor's 24 bytes"):
        ember.onnx.load(path)
    path, _ = _external_model(tmp_path, "weights.bin", offset=2**62)
    with pytest.raises(ValueError, match="too few"):
        ember.onnx.load(path)
    path, _ = _external_model(tmp_path, "fifo")
    os.mkfifo(path.parent / "fifo")
    with pytest.raises(ValueError, match="not a regular file"):
        ember.onnx.load(path)


def test_a_fifo_as_the_model_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="FIFO"):
        ember.onnx.load(tmp_path / "m.onnx")


def _graph(nodes, outputs=("y",)):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, [2])],
                              [helper.make_empty_tensor_value_info(n) for n in outputs])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]) \
        .SerializeToString()


def test_cycles_dangling_edges_and_redefinitions_are_refused():
    cycle = [helper.make_node("Relu", ["b"], ["a"], name="A"),
             helper.make_node("Relu", ["a"], ["b"], name="B"),
             helper.make_node("Relu", ["b"], ["y"], name="C")]
    with pytest.raises(ValueError, match=r"cycle: nodes \['A', 'B', 'C'\]"):
        ember.onnx.load(_graph(cycle))
    self_loop = [helper.make_node("Add", ["x", "y"], ["y"], name="S")]
    with pytest.raises(ValueError, match="cycle"):
        ember.onnx.load(_graph(self_loop))
    dangling = [helper.make_node("Add", ["x", "ghost"], ["y"], name="D")]
    with pytest.raises(ValueError, match=r"node 'D' \(Add\): its input 'ghost' is produced by "
                                         "no node"):
        ember.onnx.load(_graph(dangling))
    twice = [helper.make_node("Relu", ["x"], ["y"], name="P"),
             helper.make_node("Relu", ["x"], ["y"], name="Q")]
    with pytest.raises(ValueError, match="its output 'y' is already defined"):
        ember.onnx.load(_graph(twice))
    overwrite = [helper.make_node("Relu", ["x"], ["x"], name="R")]
    with pytest.raises(ValueError, match="its output 'x' is already defined"):
        ember.onnx.load(_graph(overwrite, outputs=("x",)))
    with pytest.raises(ValueError, match="graph output 'nowhere' is produced by no node"):
        ember.onnx.load(_graph([helper.make_node("Relu", ["x"], ["y"])], ("y", "nowhere")))


def test_unknown_and_unsupported_operators_and_opsets_are_named():
    with pytest.raises(ValueError, match=r"'Frobnicate' is not an ONNX operator of opset 17"):
        ember.onnx.load(_graph([helper.make_node("Frobnicate", ["x"], ["y"], name="F")]))
    with pytest.raises(NotImplementedError, match=r"node 'E' \(Einsum\).*Einsum is not "
                                                  "supported"):
        ember.onnx.load(_graph([helper.make_node("Einsum", ["x"], ["y"], name="E",
                                                 equation="i->i")]))
    custom = helper.make_node("Fused", ["x"], ["y"], domain="com.microsoft")
    with pytest.raises(NotImplementedError, match="domain 'com.microsoft'"):
        ember.onnx.load(_graph([custom]))
    for opset in (3, 10**6):
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                                  [helper.make_tensor_value_info("x", 1, [2])],
                                  [helper.make_empty_tensor_value_info("y")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        with pytest.raises(NotImplementedError, match=f"opset {opset} of ai.onnx"):
            ember.onnx.load(model.SerializeToString())


def test_wrong_attribute_types_names_and_counts_are_refused():
    cases = [
        (helper.make_node("Conv", ["x", "x"], ["y"], name="c", strides=[1.5, 2.0]),
         r"node 'c' \(Conv\): attribute 'strides' must be of type ints, got floats"),
        (helper.make_node("Gemm", ["x", "x"], ["y"], name="g", alpha="big"),
         r"attribute 'alpha' must be of type float, got string"),
        (helper.make_node("Relu", ["x"], ["y"], name="r", slope=2),
         r"node 'r' \(Relu\): Relu has no attribute 'slope'"),
        (helper.make_node("Concat", ["x", "x"], ["y"], name="cat"),
         r"required attribute 'axis' is missing"),
        (helper.make_node("Add", ["x", "x", "x"], ["y"], name="add"),
         r"node 'add' \(Add\): takes 2 to 2 inputs, the node has 3"),
        (helper.make_node("Conv", ["x", "x"], ["y"], name="pads", pads=[-1, 0]),
         r"node 'pads' \(Conv\): pads must be non-negative"),
        (helper.make_node("Conv", ["x", "x"], ["y"], name="auto", auto_pad="MIDDLE"),
         r"auto_pad must be one of"),
        (helper.make_node("LSTM", ["x", "x", "x"], ["y"], name="l", direction="sideways"),
         r"node 'l' \(LSTM\): direction must be one of"),
        (helper.make_node("LSTM", ["x", "x", "x"], ["y"], name="clip", clip=3.0),
         r"LSTM with the attribute 'clip' is not supported"),
    ]
    for node, message in cases:
        with pytest.raises((ValueError, NotImplementedError), match=message):
            ember.onnx.load(_graph([node]))


def test_bad_attribute_values_fail_at_run_time_naming_the_node():
    node = helper.make_node("Transpose", ["x"], ["y"], name="t", perm=[0, 0])
    model = ember.onnx.load(_graph([node]))
    with pytest.raises(ValueError, match=r"node 't' \(Transpose\): perm \[0, 0\] is not a "
                                         "permutation"):
        model(ember.zeros(2))
    gather = helper.make_node("Gather", ["x", "i"], ["y"], name="g")
    model = ember.onnx.load(single_node(gather, {"x": np.zeros(3, np.float32),
                                                 "i": np.zeros(1, np.int64)}))
    with pytest.raises(IndexError, match=r"node 'g' \(Gather\): Gather indices must lie in "
                                         r"\[-3, 2\]"):
        model(ember.zeros(3), ember.tensor([5]))
    up = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2, 2],
                          output_padding=[2, 0])
    model = ember.onnx.load(single_node(up, {"x": np.zeros((1, 1, 2, 2), np.float32)},
                                        {"w": np.ones((1, 1, 2, 2), np.float32)}))
    with pytest.raises(ValueError, match=r"node 'up' \(ConvTranspose\): output_padding \[2, 0\] "
                                         "must be less than max"):
        model(ember.zeros(1, 1, 2, 2))


def test_text_mode_file_objects_and_other_types_are_refused(tmp_path):
    path = tmp_path / "m.onnx"
    path.write_bytes(small_model())
    with open(path, "rb") as f:
        assert tuple(ember.onnx.load(f)(ember.zeros(2, 4)).shape) == (2, 3)
    with pytest.raises(TypeError, match="binary mode"):
        with open(path, encoding="latin-1") as f:
            ember.onnx.load(f)
    with pytest.raises(TypeError, match="expected a path, a binary file object, bytes or an "
                                        "onnx.ModelProto"):
        ember.onnx.load(12)


def richer_model():
    """Gather -> LSTM -> Squeeze -> Conv -> MaxPool -> Flatten -> Gemm, about 2 KB."""
    r = np.random.default_rng(3)
    nodes = [helper.make_node("Gather", ["table", "tokens"], ["e"], name="embed"),
             helper.make_node("LSTM", ["e", "W", "R", "B"], ["y"], name="lstm", hidden_size=2),
             helper.make_node("Squeeze", ["y", "one"], ["s"], name="squeeze"),
             helper.make_node("Transpose", ["s"], ["t"], name="nct", perm=[1, 2, 0]),
             helper.make_node("Conv", ["t", "k"], ["c"], name="conv", pads=[1, 1]),
             helper.make_node("MaxPool", ["c"], ["p"], name="pool", kernel_shape=[2],
                              strides=[2]),
             helper.make_node("Flatten", ["p"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "w", "b"], ["out"], name="head", transB=1)]
    init = {"table": r.standard_normal((5, 3)).astype(np.float32),
            "W": r.standard_normal((1, 8, 3)).astype(np.float32),
            "R": r.standard_normal((1, 8, 2)).astype(np.float32),
            "B": r.standard_normal((1, 16)).astype(np.float32),
            "one": np.array([1], np.int64),
            "k": r.standard_normal((2, 2, 3)).astype(np.float32),
            "w": r.standard_normal((3, 4)).astype(np.float32),
            "b": r.standard_normal(3).astype(np.float32)}
    return graph_model(nodes, {"tokens": np.zeros((4, 2), np.int64)}, ["out"], init)


def test_every_flipped_byte_of_a_recurrent_convolutional_model_loads_or_fails_clearly():
    data = richer_model()
    tokens = ember.tensor([[0, 1], [2, 3], [4, 0], [1, 1]])
    assert tuple(ember.onnx.load(data)(tokens).shape) == (2, 3)
    refused = 0
    for i in range(len(data)):
        for mask in (0x01, 0x80):
            flipped = bytearray(data)
            flipped[i] ^= mask
            try:
                ember.onnx.load(bytes(flipped))(tokens)
            except CLEAR as err:
                assert "<bytes>" in str(err), (i, mask, err)
                refused += 1
    assert refused


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, written by hand."""
    key, size, length = bytes([(number << 3) | 2]), len(payload), bytearray()
    while True:
        length.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            return key + bytes(length) + payload


def test_deeply_nested_subgraphs_are_refused_by_the_parser():
    graph = b""
    for _ in range(200):  # GraphProto.node -> NodeProto.attribute -> AttributeProto.g
        attribute = _field(1, b"then_branch") + bytes([0x20, 5]) + _field(6, graph)
        graph = _field(1, _field(4, b"If") + _field(5, attribute))
    header = onnx.ModelProto(ir_version=8).SerializeToString()
    data = header + _field(7, graph) + _field(8, helper.make_opsetid("", 17).SerializeToString())
    with pytest.raises(ValueError, match="<bytes> is not a readable ONNX model"):
        ember.onnx.load(data)


def test_control_flow_sparse_and_segmented_tensors_and_new_ir_versions_are_named():
    branch = helper.make_graph([], "b", [], [])
    node = helper.make_node("If", ["c"], ["y"], name="branch", then_branch=branch,
                            else_branch=branch)
    with pytest.raises(NotImplementedError, match=r"node 'branch' \(If\).*If is not supported"):
        ember.onnx.load(single_node(node, {"c": np.array(True)}))
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", 1, [2])],
                              [helper.make_empty_tensor_value_info("y")])
    graph.sparse_initializer.add().values.name = "s"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(NotImplementedError, match="sparse initializers"):
        ember.onnx.load(model.SerializeToString())
    segmented = onnx.TensorProto(name="w", data_type=1, dims=[1], raw_data=b"\0" * 4)
    segmented.segment.begin = 0
    with pytest.raises(NotImplementedError, match="segmented"):
        ember.onnx.load(_with_initializer(helper.make_node("Add", ["x", "w"], ["y"]),
                                          segmented))
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                                                [helper.make_tensor_value_info("x", 1, [2])],
                                                [helper.make_empty_tensor_value_info("y")]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = onnx.IR_VERSION + 1
    with pytest.raises(NotImplementedError, match=f"IR version {onnx.IR_VERSION + 1}"):
        ember.onnx.load(model.SerializeToString())


def test_huge_declared_input_dims_and_strides_are_refused_without_allocating():
    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", 1, [2**62, 2])],
                              [helper.make_empty_tensor_value_info("y")])
    model = ember.onnx.load(helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(ValueError, match=r"must have shape \(4611686018427387904, 2\)"):
        model(ember.zeros(3, 2))
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], name="up", strides=[2**40] * 2)
    model = ember.onnx.load(single_node(node, {"x": np.zeros((1, 1, 2, 2), np.float32)},
                                        {"w": np.ones((1, 1, 1, 1), np.float32)}))
    with pytest.raises(CLEAR, match=r"node 'up' \(ConvTranspose\)"):
        model(ember.zeros(1, 1, 2, 2))
