"""Shared check for the ONNX export tests: export a model, validate the file with
onnx.checker (full_check), run it in onnxruntime and compare with ember's outputs, at the traced
batch size and at another one (the inputs' batch axes exported as dynamic)."""
import numpy as np
import pytest

import ember

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def flat(result):
    if isinstance(result, ember.Tensor):
        return [result.numpy()]
    if isinstance(result, dict):
        result = list(result.values())
    return [a for item in result for a in flat(item)]


def other_batch(a, axis=0):
    """A batch of another size (2B + 1) with other values, from example input a."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        parts = [a, a * 0.5 + 0.25, np.take(a, [0], axis=axis) - 0.5]
    else:
        parts = [a, np.flip(a, axis=axis), np.take(a, [0], axis=axis)]
    return np.concatenate(parts, axis=axis)


def run_onnx(path, feeds):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def op_types(path):
    return {node.op_type for node in onnx.load(str(path)).graph.node}


def check_export(model, args, tmp_path, *, batch_axes=None, rtol=1e-5, atol=1e-5,
                 dynamic=True, others=None, name="model.onnx", **export_kwargs):
    """Exports model(*args), checks the file and compares onnxruntime with ember; returns the
    path. batch_axes: each input's batch axis (default 0); others: the inputs for the second
    batch size (default other_batch of each)."""
    args = args if isinstance(args, tuple) else (args,)
    names = [f"input_{i}" for i in range(len(args))]
    batch_axes = batch_axes or [0] * len(args)
    path = tmp_path / name
    dynamic_axes = {n: {ax: "batch"} for n, ax in zip(names, batch_axes)} if dynamic else None
    was_training = model.training
    ember.onnx.export(model, args, str(path), input_names=names, dynamic_axes=dynamic_axes,
                      **export_kwargs)
    assert model.training == was_training
    onnx.checker.check_model(str(path), full_check=True)
    model.eval()
    try:
        runs = [tuple(args)]
        if dynamic:
            runs.append(others if others is not None else tuple(
                ember.tensor(other_batch(a.numpy(), ax)) for a, ax in zip(args, batch_axes)))
        for inputs in runs:
            with ember.no_grad():
                expected = flat(model(*inputs))
            got = run_onnx(path, {n: t.numpy() for n, t in zip(names, inputs)})
            assert len(got) == len(expected)
            for g, e in zip(got, expected):
                assert g.shape == e.shape and g.dtype == e.dtype
                np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)
    finally:
        model.train(was_training)
    return path
