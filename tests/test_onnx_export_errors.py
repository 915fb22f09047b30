"""ember.onnx.export refuses what it cannot write as an equivalent graph, naming the op and the
module, and leaves no file behind."""
import os

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.onnx.export_graph import ExportError
from onnx_export_checks import check_export

RNG = np.random.default_rng(2)


def randn(*shape):
    return ember.tensor(RNG.standard_normal(shape).astype(np.float32))


class CumulativeHead(nn.Module):
    def forward(self, x):
        return ember.cumsum(x, dim=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.head = CumulativeHead()

    def forward(self, x):
        return self.head(self.fc(x))


def test_an_op_without_mapping_names_the_op_and_the_module(tmp_path):
    with pytest.raises(NotImplementedError, match=r"CumSum \(in module 'head' of type "
                                                  r"CumulativeHead\): the op CumSum has no ONNX"):
        ember.onnx.export(Net(), randn(2, 4), tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


def test_a_module_without_mapping_at_the_top_level(tmp_path):
    with pytest.raises(NotImplementedError, match="top-level module of type CumulativeHead"):
        ember.onnx.export(CumulativeHead(), randn(2, 4), tmp_path / "m.onnx")


def test_values_taken_out_of_ember_are_refused(tmp_path):
    class ThroughNumpy(nn.Module):
        def forward(self, x):
            return x + ember.tensor(x.numpy() * 2)  # ember cannot see the product

    with pytest.raises(ExportError, match="computed from the model's inputs outside"):
        ember.onnx.export(ThroughNumpy(), randn(2, 3), tmp_path / "m.onnx")


def test_control_flow_on_values_is_refused(tmp_path):
    class Branchy(nn.Module):
        def forward(self, x):
            if float(x.sum()) > 0:
                return x.exp() * 2
            return x.exp().exp()

    # x sums to -0.6; the twin run's values (0.75 x + 0.125) sum to +0.3: the other branch
    x = ember.tensor(np.full((2, 3), -0.1, np.float32))
    with pytest.raises(ExportError, match="control flow"):
        ember.onnx.export(Branchy(), x, tmp_path / "m.onnx")


def test_a_size_baked_into_a_constant_is_refused_with_dynamic_axes(tmp_path):
    class ZerosLike(nn.Module):
        def forward(self, x):
            return x + ember.zeros(x.shape[0], 3)  # a constant of the traced batch size

    with pytest.raises(ExportError, match="size follows a dynamic axis"):
        ember.onnx.export(ZerosLike(), randn(2, 3), tmp_path / "m.onnx",
                          input_names=["x"], dynamic_axes={"x": [0]})
    # without dynamic axes the size is fixed, and the file is right
    check_export(ZerosLike(), randn(2, 3), tmp_path, dynamic=False)


def test_batch_statistics_are_refused(tmp_path):
    with pytest.raises(NotImplementedError, match="batch statistics"):
        ember.onnx.export(nn.BatchNorm1d(3, track_running_stats=False), randn(4, 3),
                          tmp_path / "m.onnx")


def test_dropout_called_in_training_mode_is_refused(tmp_path):
    class AlwaysDrop(nn.Module):
        def forward(self, x):
            return nn.functional.dropout(x, 0.5, training=True)

    with pytest.raises(NotImplementedError, match="dropout in training mode"):
        ember.onnx.export(AlwaysDrop(), randn(2, 3), tmp_path / "m.onnx")


def test_a_custom_autograd_function_is_refused(tmp_path):
    class Double(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Model(nn.Module):
        def forward(self, x):
            return Double.apply(x)

    with pytest.raises(NotImplementedError, match="Double"):
        ember.onnx.export(Model(), randn(2, 3), tmp_path / "m.onnx")



def test_an_output_computed_outside_ember_is_refused(tmp_path):
    class ArgMax(nn.Module):
        def forward(self, x):
            return x.argmax(1)  # not differentiable: ember computes it on the NumPy array

    with pytest.raises(ExportError, match="output 'output' is not computed by ember's ops"):
        ember.onnx.export(ArgMax(), ember.ones(2, 5), tmp_path / "m.onnx")


def test_a_mask_from_a_comparison_is_refused(tmp_path):
    class Masked(nn.Module):
        def forward(self, x):
            return ember.where(x > 0.5, x, x * 2)

    with pytest.raises(ExportError, match=r"Where .*computed from the model's inputs outside"):
        ember.onnx.export(Masked(), randn(2, 5), tmp_path / "m.onnx")


def test_an_op_without_mapping_in_a_keras_model(tmp_path):
    from ember import keras as ek
    from ember.keras import layers as L
    model = ek.Sequential([L.Input(shape=(5,)), L.Embedding(10, 4, mask_zero=True), L.LSTM(3)])
    with pytest.raises(NotImplementedError, match=r"rnn_layer \(in module 'model\.lstm.*masked"):
        model.export(str(tmp_path / "m.onnx"), format="onnx", verbose=False)


def test_a_corrected_variance_over_the_dynamic_axis_is_refused(tmp_path):
    class BatchVariance(nn.Module):
        def forward(self, x):
            return x.var(0)  # divides by batch - 1: a count ONNX would get as a constant

    with pytest.raises(NotImplementedError, match="variance with correction"):
        ember.onnx.export(BatchVariance(), randn(3, 2), tmp_path / "m.onnx",
                          input_names=["x"], dynamic_axes={"x": [0]})
