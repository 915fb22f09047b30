"""Kernel GFLOP/s, measured in a worker: the GEMM ceiling of this CPU (a large float32 matrix
product by numpy.matmul, torch.mm and ember.mm), the convolution layers of the benchmarked
CNNs, and one LSTM layer at the text classifier's shape. Convolutions and the LSTM run through
the public functional/module API with the same lines for ember and torch: the forward with
gradients enabled (as in training) and the backward of its output (retain_graph, so that the
backward alone is timed)."""

import dataclasses

import numpy as np

from bench.models import rnn
from bench.steps import framework, version_of
from bench.timing import measure

GEMM_SIZE = 2048
GEMM_FLOP = 2.0 * GEMM_SIZE ** 3
LSTM_SHAPE = {"batch": rnn.BATCH, "steps": rnn.SEQ, "inputs": rnn.EMBEDDING,
              "hidden": rnn.HIDDEN}
LSTM_FORWARD_FLOP = 2.0 * (4 * rnn.HIDDEN) * (rnn.EMBEDDING + rnn.HIDDEN) * rnn.BATCH * rnn.SEQ


@dataclasses.dataclass(frozen=True)
class ConvLayer:
    name: str
    batch: int
    c_in: int
    size: int          # H = W for 2-D, L for 1-D
    c_out: int
    kernel: int
    stride: int = 1
    padding: int = 0
    rank: int = 2
    channels_last: bool = False

    @property
    def out_size(self):
        return (self.size + 2 * self.padding - self.kernel) // self.stride + 1

    @property
    def input_grad(self):
        """A first layer's input is the data: training computes no gradient for it."""
        return self.c_in > 1

    @property
    def forward_flop(self):
        return (2.0 * self.batch * self.out_size ** self.rank * self.c_out * self.c_in
                * self.kernel ** self.rank)

    @property
    def backward_flop(self):
        """Weight gradient (and input gradient where needed) each cost one forward."""
        return self.forward_flop * (2 if self.input_grad else 1)


CONV_LAYERS = (
    ConvLayer("Keras CNN conv1, NCHW", 64, 1, 28, 32, 3),
    ConvLayer("Keras CNN conv1, NHWC", 64, 1, 28, 32, 3, channels_last=True),
    ConvLayer("Keras CNN conv2, NCHW", 64, 32, 13, 64, 3),
    ConvLayer("Keras CNN conv2, NHWC", 64, 32, 13, 64, 3, channels_last=True),
    ConvLayer("Net conv1", 64, 1, 28, 10, 5),
    ConvLayer("Net conv2", 64, 10, 12, 20, 5),
    ConvLayer("MNIST-1D conv1", 100, 1, 40, 25, 5, stride=2, padding=1, rank=1),
    ConvLayer("MNIST-1D conv2", 100, 25, 19, 25, 3, stride=2, padding=1, rank=1),
    ConvLayer("MNIST-1D conv3", 100, 25, 10, 25, 3, stride=2, padding=1, rank=1),
    ConvLayer("Time-series conv1, NCL", 32, 1, 500, 64, 3, padding=1, rank=1),
    ConvLayer("Time-series conv1, NLC", 32, 1, 500, 64, 3, padding=1, rank=1, channels_last=True),
    ConvLayer("Time-series conv2, NCL", 32, 64, 500, 64, 3, padding=1, rank=1),
    ConvLayer("Time-series conv2, NLC", 32, 64, 500, 64, 3, padding=1, rank=1,
              channels_last=True),
)


def _gflops(fn, flop, window, repeats):
    per_wall, per_cpu = measure(fn, window, repeats)
    return {"wall": per_wall * flop / 1e9, "cpu": per_cpu * flop / 1e9}


def _gemm(lib, rng):
    a, b = (rng.standard_normal((GEMM_SIZE, GEMM_SIZE)).astype(np.float32) for _ in range(2))
    if lib is np:
        return lambda: a @ b
    ta, tb = lib.from_numpy(a), lib.from_numpy(b)
    return lambda: lib.mm(ta, tb)


def _tensor(lib, array, channels_last=False, requires_grad=False):
    """`array` (channels first: NCHW, NCL) as a tensor of `lib`; channels_last: for ember the
    NHWC / NLC array its channels_last convolution takes, for torch that same memory under the
    channels-first shape (for 4-D, its channels_last memory format; 3-D tensors have no such
    format, so a transposed view)."""
    if channels_last:
        tensor = lib.from_numpy(np.ascontiguousarray(np.moveaxis(array, 1, -1)))
        if lib.__name__ == "torch":
            tensor = tensor.movedim(-1, 1)
    else:
        tensor = lib.from_numpy(array)
    return tensor.requires_grad_(requires_grad)


def _forward_backward(forward, grad):
    """(forward, backward of one retained forward output by `grad`) callables."""
    out = forward()
    return forward, lambda: out.backward(grad, retain_graph=True)


def _conv(lib, layer, rng):
    def normal(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    x = normal(layer.batch, layer.c_in, *(layer.size,) * layer.rank)
    weight = normal(layer.c_out, layer.c_in, *(layer.kernel,) * layer.rank)
    bias = normal(layer.c_out)
    grad = normal(layer.batch, layer.c_out, *(layer.out_size,) * layer.rank)
    last = layer.channels_last
    tx = _tensor(lib, x, last, requires_grad=layer.input_grad)
    # torch's channels_last models keep 2-D weights channels-last too; ember takes them as is
    tw = _tensor(lib, weight, last and lib.__name__ == "torch" and layer.rank == 2, True)
    tb = _tensor(lib, bias, requires_grad=True)
    tg = _tensor(lib, grad, last)
    functional = lib.nn.functional
    conv = functional.conv2d if layer.rank == 2 else functional.conv1d
    extra = {"channels_last": True} if last and lib.__name__ == "ember" else {}
    return _forward_backward(
        lambda: conv(tx, tw, tb, stride=layer.stride, padding=layer.padding, **extra),
        tg)


def _lstm(lib, rng):
    lstm = lib.nn.LSTM(rnn.EMBEDDING, rnn.HIDDEN, batch_first=True)
    x = rng.standard_normal((rnn.BATCH, rnn.SEQ, rnn.EMBEDDING)).astype(np.float32)
    grad = rng.standard_normal((rnn.BATCH, rnn.SEQ, rnn.HIDDEN)).astype(np.float32)
    tx, tg = _tensor(lib, x, requires_grad=True), _tensor(lib, grad)
    return _forward_backward(lambda: lstm(tx)[0], tg)


def measure_kernels(library, threads, window, repeats):
    """GFLOP/s of `library` ("numpy", "ember" or "torch") at `threads`, wall and per
    CPU-second: the GEMM for all three, the conv layers and the LSTM layer for ember and torch."""
    lib = np if library == "numpy" else framework(library, threads)
    rng = np.random.default_rng(0)
    result = {"version": version_of(lib)[0],
              "gemm": _gflops(_gemm(lib, rng), GEMM_FLOP, window, repeats)}
    if lib is np:
        return result
    result["conv"] = {}
    for layer in CONV_LAYERS:
        forward, backward = _conv(lib, layer, rng)
        result["conv"][layer.name] = {
            "forward": _gflops(forward, layer.forward_flop, window, repeats),
            "backward": _gflops(backward, layer.backward_flop, window, repeats)}
    forward, backward = _lstm(lib, rng)
    result["lstm"] = {"forward": _gflops(forward, LSTM_FORWARD_FLOP, window, repeats),
                      "backward": _gflops(backward, 2 * LSTM_FORWARD_FLOP, window, repeats)}
    return result
