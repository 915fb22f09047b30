"""ONNX files from PyTorch 2.13's default exporter (`torch.onnx.export(..., dynamo=True)`, which
needs onnxscript) for the anchor models load in ember and give onnxruntime's outputs (1e-5), at
a second batch size where the file has a dynamic batch axis. tests/test_onnx_load_torch.py covers
the TorchScript exporter (dynamo=False)."""
import warnings

import numpy as np
import pytest

from onnx_load_helpers import run_ort
from test_onnx_load_torch import ANCHORS

import ember

torch = pytest.importorskip("torch")
pytest.importorskip("onnxscript")  # the dynamo exporter's dependency


def dynamo_export(name, path, dynamic):
    make, data = ANCHORS[name]
    torch.manual_seed(0)
    model = make().eval()
    shapes = ({0: torch.export.Dim("batch", min=1, max=64)},) if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.from_numpy(data(3)),), str(path), dynamo=True,
                          input_names=["x"], output_names=["y"], dynamic_shapes=shapes)
    return model, data


@pytest.mark.parametrize("name,dynamic", [("mlp", True), ("mnist-net", True), ("keras-cnn", True),
                                          ("keras-cnn", False), ("lstm", True), ("gru", True)])
def test_dynamo_export_loads_and_matches_onnxruntime(tmp_path, name, dynamic):
    path = tmp_path / f"{name}.onnx"
    model, data = dynamo_export(name, path, dynamic)
    loaded = ember.onnx.load(str(path))
    for batch in ((3, 5) if dynamic else (3,)):
        x = data(batch)
        expected = run_ort(str(path), {"x": x})[0]
        got = loaded(ember.from_numpy(x)).detach().numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        with torch.no_grad():
            np.testing.assert_allclose(got, model(torch.from_numpy(x)).numpy(), rtol=1e-5,
                                       atol=1e-5)
