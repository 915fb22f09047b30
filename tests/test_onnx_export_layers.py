"""ember.onnx.export of each torch-face layer type: the file passes onnx.checker(full_check)
and onnxruntime gives ember's outputs (float32, 1e-5) at the traced and at another batch size,
with the standard ONNX operators expected for the layer."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from onnx_export_checks import check_export, onnx, op_types

RNG = np.random.default_rng(0)


def randn(*shape):
    return ember.tensor(RNG.standard_normal(shape).astype(np.float32))


def with_running_stats(bn):
    """A BatchNorm whose running statistics and affine parameters are not the defaults."""
    c = bn.num_features
    bn.running_mean.copy_(ember.tensor(RNG.standard_normal(c).astype(np.float32)))
    bn.running_var.copy_(ember.tensor(RNG.uniform(0.5, 2.0, c).astype(np.float32)))
    if bn.affine:
        bn.weight.data.copy_(ember.tensor(RNG.uniform(0.5, 1.5, c).astype(np.float32)))
        bn.bias.data.copy_(ember.tensor(RNG.standard_normal(c).astype(np.float32)))
    return bn


# (id, module factory, example input factory, ONNX operators the file must use)
LAYERS = [
    ("linear", lambda: nn.Linear(6, 4), lambda: randn(3, 6), {"Gemm"}),
    ("linear_no_bias", lambda: nn.Linear(6, 4, bias=False), lambda: randn(3, 6), {"Gemm"}),
    ("linear_3d", lambda: nn.Linear(6, 4), lambda: randn(2, 5, 6), {"MatMul", "Add"}),
    ("conv1d", lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), lambda: randn(2, 3, 11),
     {"Conv"}),
    ("conv1d_groups_dilation", lambda: nn.Conv1d(4, 6, 3, dilation=2, groups=2, padding="same"),
     lambda: randn(2, 4, 9), {"Conv"}),
    ("conv1d_reflect", lambda: nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"),
     lambda: randn(2, 2, 8), {"Conv", "Pad"}),
    ("conv2d", lambda: nn.Conv2d(3, 5, 3, stride=(2, 1), padding=(1, 2)),
     lambda: randn(2, 3, 9, 8), {"Conv"}),
    ("conv2d_groups_dilation_no_bias",
     lambda: nn.Conv2d(4, 8, (3, 2), dilation=(2, 1), groups=4, bias=False),
     lambda: randn(2, 4, 9, 7), {"Conv"}),
    ("conv2d_replicate", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="replicate"),
     lambda: randn(2, 2, 6, 5), {"Conv", "Pad"}),
    ("conv2d_circular", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
     lambda: randn(2, 2, 6, 5), {"Conv", "Pad"}),
    ("conv_transpose1d", lambda: nn.ConvTranspose1d(3, 2, 3, stride=2, padding=1,
                                                    output_padding=1),
     lambda: randn(2, 3, 7), {"ConvTranspose"}),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0),
                                                    groups=2, dilation=(1, 2)),
     lambda: randn(2, 4, 5, 4), {"ConvTranspose"}),
    ("maxpool1d", lambda: nn.MaxPool1d(3, stride=2, padding=1), lambda: randn(2, 3, 10),
     {"MaxPool"}),
    ("maxpool2d", lambda: nn.MaxPool2d(2), lambda: randn(2, 3, 8, 6), {"MaxPool"}),
    ("maxpool2d_ceil_dilation", lambda: nn.MaxPool2d(3, stride=2, dilation=(1, 2), ceil_mode=True),
     lambda: randn(2, 3, 10, 11), {"MaxPool"}),
    ("avgpool1d", lambda: nn.AvgPool1d(3, stride=2), lambda: randn(2, 3, 10), {"AveragePool"}),
    ("avgpool2d_pad", lambda: nn.AvgPool2d(3, stride=2, padding=1), lambda: randn(2, 3, 9, 8),
     {"AveragePool"}),
    ("avgpool2d_pad_excluded", lambda: nn.AvgPool2d(3, stride=2, padding=1,
                                                    count_include_pad=False),
     lambda: randn(2, 3, 9, 8), {"AveragePool"}),
    ("adaptive_avgpool2d_global", lambda: nn.AdaptiveAvgPool2d((1, 1)),
     lambda: randn(2, 3, 5, 7), {"GlobalAveragePool"}),
    ("adaptive_avgpool2d_fixed", lambda: nn.AdaptiveAvgPool2d(2), lambda: randn(2, 3, 6, 4),
     {"AveragePool"}),
    ("adaptive_maxpool2d_global", lambda: nn.AdaptiveMaxPool2d(1), lambda: randn(2, 3, 5, 7),
     {"GlobalMaxPool"}),
    ("adaptive_avgpool1d", lambda: nn.AdaptiveAvgPool1d(1), lambda: randn(2, 3, 9),
     {"GlobalAveragePool"}),
    ("batchnorm1d_2d", lambda: with_running_stats(nn.BatchNorm1d(5)), lambda: randn(4, 5),
     {"BatchNormalization"}),
    ("batchnorm1d_3d", lambda: with_running_stats(nn.BatchNorm1d(5)), lambda: randn(4, 5, 3),
     {"BatchNormalization"}),
    ("batchnorm2d", lambda: with_running_stats(nn.BatchNorm2d(3)), lambda: randn(2, 3, 4, 5),
     {"BatchNormalization"}),
    ("batchnorm2d_no_affine", lambda: with_running_stats(nn.BatchNorm2d(3, affine=False)),
     lambda: randn(2, 3, 4, 5), {"BatchNormalization"}),
    ("layernorm", lambda: nn.LayerNorm(6), lambda: randn(2, 4, 6), {"LayerNormalization"}),
    ("layernorm_2dims_no_affine", lambda: nn.LayerNorm((4, 6), elementwise_affine=False),
     lambda: randn(2, 4, 6), {"LayerNormalization"}),
    ("dropout", lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), lambda: randn(3, 4),
     {"Gemm"}),
    ("flatten", lambda: nn.Flatten(), lambda: randn(2, 3, 4, 5), {"Reshape"}),
    ("unflatten", lambda: nn.Unflatten(1, (3, 4)), lambda: randn(2, 12), {"Reshape"}),
    ("relu", lambda: nn.ReLU(), lambda: randn(3, 5), {"Relu"}),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), lambda: randn(3, 5), {"LeakyRelu"}),
    ("elu", lambda: nn.ELU(0.7), lambda: randn(3, 5), {"Elu"}),
    ("gelu", lambda: nn.GELU(), lambda: randn(3, 5), {"Erf"}),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), lambda: randn(3, 5), {"Tanh"}),
    ("sigmoid", lambda: nn.Sigmoid(), lambda: randn(3, 5), {"Sigmoid"}),
    ("tanh", lambda: nn.Tanh(), lambda: randn(3, 5), {"Tanh"}),
    ("softplus", lambda: nn.Softplus(beta=2.0, threshold=1.0), lambda: randn(3, 5),
     {"Softplus"}),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: randn(3, 5), {"Softmax"}),
    ("log_softmax", lambda: nn.LogSoftmax(dim=-1), lambda: randn(3, 5), {"LogSoftmax"}),
    ("zero_pad2d", lambda: nn.ZeroPad2d((1, 2, 0, 1)), lambda: randn(2, 3, 4, 5), {"Pad"}),
    ("reflection_pad1d", lambda: nn.ReflectionPad1d(2), lambda: randn(2, 3, 6), {"Pad"}),
    ("replication_pad2d", lambda: nn.ReplicationPad2d(1), lambda: randn(2, 3, 4, 5), {"Pad"}),
    ("circular_pad1d", lambda: nn.CircularPad1d(1), lambda: randn(2, 3, 5), {"Pad"}),
    ("group_norm", lambda: nn.GroupNorm(2, 4), lambda: randn(2, 4, 3, 3), set()),
    ("instance_norm", lambda: nn.InstanceNorm1d(3, affine=True), lambda: randn(2, 3, 5), set()),
    ("pixel_shuffle", lambda: nn.PixelShuffle(2), lambda: randn(2, 8, 3, 3), {"Transpose"}),
    ("identity", lambda: nn.Identity(), lambda: randn(2, 3), {"Identity"}),
    ("upsample_nearest", lambda: nn.Upsample(scale_factor=2), lambda: randn(2, 3, 4, 5),
     {"Gather"}),
    ("upsample_bilinear", lambda: nn.Upsample(size=(7, 9), mode="bilinear"),
     lambda: randn(2, 3, 4, 5), {"Gather", "Mul"}),
    ("upsample_bilinear_align_corners", lambda: nn.UpsamplingBilinear2d(scale_factor=3),
     lambda: randn(2, 3, 4, 5), {"Gather", "Mul"}),
    ("upsample_1d_nearest_exact", lambda: nn.Upsample(scale_factor=1.5, mode="nearest-exact"),
     lambda: randn(2, 3, 6), {"Gather"}),
]


@pytest.mark.parametrize("make, example, ops", [case[1:] for case in LAYERS],
                         ids=[case[0] for case in LAYERS])
def test_layer_runs_in_onnxruntime_as_in_ember(make, example, ops, tmp_path):
    path = check_export(make(), example(), tmp_path)
    assert ops <= op_types(path)


def test_dropout_is_not_exported(tmp_path):
    path = check_export(nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), randn(3, 4), tmp_path)
    assert "Dropout" not in op_types(path)


class Functional(nn.Module):
    """Activations without a module of their own in ember, through ember.nn.functional."""

    def forward(self, x):
        return F.silu(x) + F.hardtanh(x, -0.5, 0.7) + F.relu6(x * 4) - F.leaky_relu(x, 0.3)


def test_functional_activations(tmp_path):
    check_export(Functional(), randn(3, 5), tmp_path)


def test_embedding_is_a_gather(tmp_path):
    emb = nn.Embedding(10, 4, padding_idx=0)
    idx = ember.tensor(np.array([[1, 2, 0], [9, 3, 3]], dtype=np.int64))
    path = check_export(emb, idx, tmp_path, others=(ember.tensor(np.array(
        [[4, 5, 6], [7, 8, 9], [0, 1, 2]], dtype=np.int64)),))
    assert "Gather" in op_types(path)


RNNS = [
    ("lstm", lambda: nn.LSTM(4, 5), "LSTM"),
    ("lstm_2layers_bidirectional_batch_first",
     lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True), "LSTM"),
    ("gru", lambda: nn.GRU(4, 5), "GRU"),
    ("gru_2layers_bidirectional_batch_first",
     lambda: nn.GRU(4, 5, num_layers=2, bidirectional=True, batch_first=True), "GRU"),
    ("rnn_tanh_no_bias", lambda: nn.RNN(4, 5, bias=False), "RNN"),
    ("rnn_relu_bidirectional", lambda: nn.RNN(4, 5, nonlinearity="relu", bidirectional=True),
     "RNN"),
]


@pytest.mark.parametrize("make, op", [case[1:] for case in RNNS], ids=[c[0] for c in RNNS])
def test_recurrent_layer_is_one_onnx_node_per_layer_direction(make, op, tmp_path):
    rnn = make()
    batch_axis = 0 if rnn.batch_first else 1
    x = randn(3, 6, 4) if rnn.batch_first else randn(6, 3, 4)
    path = check_export(rnn, x, tmp_path, batch_axes=[batch_axis])
    nodes = [n for n in onnx.load(str(path)).graph.node if n.op_type == op]
    assert len(nodes) == rnn.num_layers * (2 if rnn.bidirectional else 1)


def test_lstm_with_initial_states(tmp_path):
    lstm = nn.LSTM(3, 4, num_layers=2)
    x, h0, c0 = randn(5, 2, 3), randn(2, 2, 4), randn(2, 2, 4)
    model = _WithStates(lstm)
    check_export(model, (x, h0, c0), tmp_path, batch_axes=[1, 1, 1])


class _WithStates(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h0, c0):
        out, (h, c) = self.rnn(x, (h0, c0))
        return out, h, c


def test_gru_with_initial_state(tmp_path):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 4, batch_first=True, bidirectional=True)

        def forward(self, x, h0):
            return self.gru(x, h0)

    check_export(Model(), (randn(2, 5, 3), randn(2, 2, 4)), tmp_path, batch_axes=[0, 1])


def test_multihead_attention(tmp_path):
    class Model(nn.Module):
        def __init__(self, batch_first):
            super().__init__()
            self.mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)

        def forward(self, q, kv):
            out, weights = self.mha(q, kv, kv)
            return out, weights

    for batch_first in (True, False):
        q, kv = (randn(2, 5, 8), randn(2, 6, 8)) if batch_first else (randn(5, 2, 8),
                                                                       randn(6, 2, 8))
        axis = 0 if batch_first else 1
        path = check_export(Model(batch_first), (q, kv), tmp_path, batch_axes=[axis, axis],
                            name=f"mha_{batch_first}.onnx")
        assert {"MatMul", "Softmax"} <= op_types(path)


def test_multihead_attention_with_causal_mask(tmp_path):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = nn.MultiheadAttention(8, 4, batch_first=True)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(5))

        def forward(self, x):
            return self.mha(x, x, x, attn_mask=self.mask, need_weights=False)[0]

    check_export(Model(), randn(3, 5, 8), tmp_path)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder(norm_first, activation, tmp_path):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, activation=activation,
                                       batch_first=True, norm_first=norm_first)
    model = nn.TransformerEncoder(layer, num_layers=2)
    path = check_export(model, randn(3, 5, 8), tmp_path)
    assert {"MatMul", "Softmax", "LayerNormalization"} <= op_types(path)


class TensorOps(nn.Module):
    """Elementwise and shape ops written in forward, between modules."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x, y):
        h = self.fc(x) * 2.0 + y - 1
        h = ember.cat([h, h.exp().clamp(max=3.0)], dim=1)       # (B, 12)
        h = h.view(h.size(0), 3, 4).permute(0, 2, 1)            # (B, 4, 3)
        m = h.mean(dim=1, keepdim=True) + h.sum(-1, keepdim=True).abs().sqrt()
        z = ember.matmul(h.transpose(1, 2), h) / 3              # (B, 3, 3)
        s = ember.stack([z[:, 0], z[:, -1]], dim=1)             # (B, 2, 3)
        t = ember.flatten(s, 1) ** 2                             # (B, 6)
        return t, (m - h).amax(dim=-1), x[:, 1:4].unsqueeze(1).squeeze(1)


def test_tensor_ops_in_forward(tmp_path):
    check_export(TensorOps(), (randn(4, 6), randn(4, 6)), tmp_path)


@pytest.mark.parametrize("cell, states", [(nn.LSTMCell, 2), (nn.GRUCell, 1), (nn.RNNCell, 1)])
def test_recurrent_cells(cell, states, tmp_path):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell(3, 4)

        def forward(self, x, h):
            return self.cell(x, (h, h * 0.5) if states == 2 else h)

    check_export(Model(), (randn(2, 3), randn(2, 4)), tmp_path)


def test_transformer_decoder_layer(tmp_path):
    layer = nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    path = check_export(layer, (randn(2, 4, 8), randn(2, 6, 8)), tmp_path)
    assert {"MatMul", "Softmax", "LayerNormalization"} <= op_types(path)


def test_repeat_and_repeat_interleave(tmp_path):
    class Model(nn.Module):
        def forward(self, x):
            return x.repeat(1, 2, 3), x.repeat_interleave(2, dim=2), ember.tile(x, (2, 1, 1, 1))

    path = check_export(Model(), randn(2, 3, 4), tmp_path)
    assert {"Tile", "Gather"} <= op_types(path)


def test_variance_max_min_and_math_functions(tmp_path):
    class Model(nn.Module):
        def forward(self, x):
            spread = x.var(1, keepdim=True) + ember.var(x, dim=(0, 1), correction=0)
            top = ember.max(x, 1).values.unsqueeze(1) - ember.min(x, dim=1, keepdim=True)[0]
            smooth = ember.erf(x) + ember.rsqrt(x.abs() + 1) + ember.minimum(x, x * 0.5)
            return spread + top + smooth + ember.log(x.abs() + 1) - ember.sin(x) * ember.cos(x)

    check_export(Model(), randn(3, 4, 2), tmp_path, dynamic=False)
    check_export(Model(), randn(3, 4, 2), tmp_path)  # (the variance over the batch axis 0)
