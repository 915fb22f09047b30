"""The calls of the hostile-size campaign (tests/test_hostile_sizes_campaign.py): every public
constructor and op with a size-like argument, as expressions in which N stands for one absurd
size. Run in a child process where `x4` (1, 2, 5, 5), `x3` (1, 2, 5), `w4` (2, 2, 3, 3), `w3`
(2, 2, 3), `t` (2, 3) and `labels` are defined."""

# Sizes a hostile caller passes: past int32, past memory, near and past int64.
HUGE = (2**31, 2**40, 2**62, 2**63 - 1, 2**64)

CASES = {
    "creation": [
        "ember.zeros(N)", "ember.ones(N, 2)", "ember.empty(2, N)", "ember.full((N,), 1.0)",
        "ember.rand(N)", "ember.randn(N, N)", "ember.randint(0, 3, (N,))", "ember.eye(N)",
        "ember.eye(3, N)", "ember.arange(N)", "ember.arange(0, N, 1)", "ember.linspace(0, 1, N)",
        "ember.randperm(N)", "t.new_zeros(N)", "t.new_ones((N, 2))", "t.new_full((N,), 2.0)",
        "t.new_empty(N)", "t.repeat(N, 1)", "t.tile((N, 1))", "t.repeat_interleave(N)",
        "ember.zeros(N).shape", "F.one_hot(labels, N)",
    ],
    "modules": [
        "nn.Linear(N, 3)", "nn.Linear(3, N)", "nn.Embedding(N, 3)", "nn.Embedding(3, N)",
        "nn.Conv2d(2, N, 3)", "nn.Conv2d(2, 3, N)", "nn.Conv1d(N, 2, 3)",
        "nn.ConvTranspose2d(2, N, 3)", "nn.BatchNorm1d(N)", "nn.LayerNorm(N)",
        "nn.GroupNorm(1, N)", "nn.RNN(3, 4, num_layers=N)", "nn.GRU(3, 4, num_layers=N)",
        "nn.LSTM(3, 4, num_layers=N)", "nn.LSTM(3, N)", "nn.RNNCell(N, 3)", "nn.LSTMCell(3, N)",
        "nn.PixelShuffle(N)(x4)", "nn.Upsample(scale_factor=N)(x4)", "nn.Upsample(size=N)(x4)",
        "nn.ZeroPad2d(N)(x4)", "nn.ConstantPad1d(N, 0.0)(x3)", "nn.Unflatten(1, (N, 1))(t)",
    ],
    "conv": [
        "F.conv2d(x4, w4, padding=N)", "F.conv2d(x4, w4, stride=N)", "F.conv2d(x4, w4, dilation=N)",
        "F.conv2d(x4, w4, padding=(N, 1))", "F.conv2d(x4, w4, groups=N)",
        "F.conv1d(x3, w3, padding=N)", "F.conv1d(x3, w3, stride=N)", "F.conv1d(x3, w3, dilation=N)",
        "F.conv_transpose2d(x4, w4, stride=N)", "F.conv_transpose2d(x4, w4, padding=N)",
        "F.conv_transpose2d(x4, w4, dilation=N)", "F.conv_transpose2d(x4, w4, stride=N, "
        "output_padding=N - 1)", "F.conv_transpose1d(x3, w3, stride=N)",
        "F.conv_transpose1d(x3, w3, dilation=N)",
    ],
    "pool": [
        "F.max_pool2d(x4, N)", "F.max_pool2d(x4, 2, stride=N)", "F.max_pool2d(x4, 2, padding=N)",
        "F.max_pool2d(x4, 2, dilation=N)", "F.max_pool2d(x4, 3, stride=N, ceil_mode=True)",
        "F.max_pool1d(x3, N)", "F.max_pool1d(x3, 2, stride=N)", "F.avg_pool2d(x4, N)",
        "F.avg_pool2d(x4, 2, stride=N)", "F.avg_pool2d(x4, 3, stride=N, ceil_mode=True)",
        "F.avg_pool1d(x3, 2, stride=N)", "F.adaptive_avg_pool2d(x4, N)",
        "F.adaptive_avg_pool2d(x4, (1, N))", "F.adaptive_max_pool2d(x4, N)",
        "F.adaptive_avg_pool1d(x3, N)", "F.adaptive_max_pool1d(x3, N)",
        "F.local_response_norm(x4, N)",
    ],
    "resample": [
        "F.interpolate(x4, size=N)", "F.interpolate(x4, size=(N, 2))",
        "F.interpolate(x4, scale_factor=N)", "F.interpolate(x4, scale_factor=N, mode='bilinear')",
        "F.interpolate(x3, size=N, mode='linear')", "F.interpolate(x4, size=N, mode='area')",
        "F.pad(x4, (N, N))", "F.pad(x4, (0, N))", "F.pad(x4, (N, 0), mode='replicate')",
        "F.pad(x4, (-N, 0))", "F.pixel_shuffle(x4, N)", "F.pixel_unshuffle(x4, N)",
        "t.view(N, -1)", "t.reshape(N, 3)", "t.narrow(1, 0, N)", "t.expand(N, 3).shape",
    ],
    "keras": [
        "keras.layers.Dense(N).build((None, 3))", "keras.layers.Embedding(N, 2).build((None, 3))",
        "keras.layers.Conv2D(N, 3).build((None, 5, 5, 2))",
        "keras.layers.Conv2D(2, N).build((None, 5, 5, 2))",
        "keras.layers.LSTM(N).build((None, 4, 3))", "keras.layers.SimpleRNN(N).build((None, 4, 3))",
        "keras.layers.RepeatVector(N)(ember.zeros(1, 3))",
        "keras.layers.UpSampling2D(N)(ember.zeros(1, 4, 4, 2))",
        "keras.layers.ZeroPadding2D(N)(ember.zeros(1, 4, 4, 2))",
        "keras.layers.CategoryEncoding(N)(ember.tensor([1, 2]))",
    ],
}
