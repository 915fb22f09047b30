"""The benchmark models written by hand in plain NumPy: forward, backward and optimizer.

They are the "no framework" baseline of bench/models/dense.py and cnn.py: the same maths as
ember and PyTorch (PyTorch's default Linear/Conv2d initialisation, mean-reduced losses,
PyTorch's SGD and Adam update rules), in float32, with in-place updates where NumPy allows
them. Convolutions are im2col + one matmul, on NHWC activations (the layout in which the
im2col patch matrix is one reshape of a sliding-window view); weights keep PyTorch's layout.
check_numpy_models.py verifies the CNNs against PyTorch.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _linear_params(rng, in_features, out_features):
    # PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
    bound = 1.0 / np.sqrt(in_features)
    weight = rng.uniform(-bound, bound, (out_features, in_features)).astype(np.float32)
    bias = rng.uniform(-bound, bound, out_features).astype(np.float32)
    return weight, bias


def _conv_params(rng, out_channels, in_channels, kernel_size):
    # PyTorch's nn.Conv2d default, like nn.Linear's with fan_in = in_channels * kh * kw.
    # kernel_size: k for k x k, or (kh, kw) (a Conv1d weight is (O, C, 1, k) here).
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    bound = 1.0 / np.sqrt(in_channels * kh * kw)
    shape = (out_channels, in_channels, kh, kw)
    weight = rng.uniform(-bound, bound, shape).astype(np.float32)
    bias = rng.uniform(-bound, bound, out_channels).astype(np.float32)
    return weight, bias


# ---------------------------------------------------------------- losses and optimizers

def _softmax_cross_entropy(logits, target):
    """Mean cross-entropy of integer targets (= NLL of log_softmax) and d loss / d logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sum_exp = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(target))
    loss = np.mean(np.log(sum_exp[:, 0]) - shifted[rows, target])
    grad = exp / sum_exp  # (softmax - one_hot) / batch
    grad[rows, target] -= 1.0
    grad /= len(target)
    return loss, grad


class Adam:
    """PyTorch's Adam update rule (no weight decay), in place on a list of arrays."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = params
        self.exp_avgs = [np.zeros_like(p) for p in params]
        self.exp_avg_sqs = [np.zeros_like(p) for p in params]
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.step_count = 0

    def step(self, grads):
        self.step_count += 1
        bias_correction1 = 1.0 - self.beta1 ** self.step_count
        bias_correction2 = 1.0 - self.beta2 ** self.step_count
        step_size = np.float32(self.lr / bias_correction1)
        sqrt_bc2 = np.float32(np.sqrt(bias_correction2))
        for param, grad, exp_avg, exp_avg_sq in zip(self.params, grads, self.exp_avgs,
                                                    self.exp_avg_sqs):
            exp_avg *= self.beta1
            exp_avg += (1.0 - self.beta1) * grad
            exp_avg_sq *= self.beta2
            exp_avg_sq += (1.0 - self.beta2) * grad * grad
            denom = np.sqrt(exp_avg_sq)
            denom /= sqrt_bc2
            denom += self.eps
            param -= step_size * exp_avg / denom


class SgdMomentum:
    """PyTorch's SGD with momentum (no dampening): buf = m * buf + g (buf = g at first)."""

    def __init__(self, params, lr=0.01, momentum=0.5):
        self.params, self.lr, self.momentum = params, np.float32(lr), np.float32(momentum)
        self.buffers = None

    def step(self, grads):
        if self.buffers is None:
            self.buffers = [g.astype(np.float32, copy=True) for g in grads]
        else:
            for buffer, grad in zip(self.buffers, grads):
                buffer *= self.momentum
                buffer += grad
        for param, buffer in zip(self.params, self.buffers):
            param -= self.lr * buffer


# ---------------------------------------------------------------- convolution and pooling

def _conv_forward(x, weight, bias, stride=(1, 1), padding=(0, 0)):
    """NHWC x (N, H, W, C) with a (O, C, kh, kw) weight; stride and zero padding per axis
    (height, width).

    Returns the NHWC output and the im2col patch matrix (N*OH*OW, C*kh*kw) for backward; its
    columns are in (C, kh, kw) order, the order of the flattened PyTorch weight.
    """
    kh, kw = weight.shape[2:]
    (sh, sw), (ph, pw) = stride, padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    # (N, OH, OW, C, kh, kw) view
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
    n, oh, ow = windows.shape[:3]
    cols = windows.reshape(n * oh * ow, -1)  # the copy: im2col
    out = cols @ weight.reshape(weight.shape[0], -1).T
    out += bias
    return out.reshape(n, oh, ow, -1), cols


def _conv_backward(grad_out, cols, x_shape, weight, need_input=True, stride=(1, 1),
                   padding=(0, 0)):
    """(grad_input or None, grad_weight, grad_bias) of _conv_forward."""
    out_channels, _, kh, kw = weight.shape
    grad_2d = grad_out.reshape(-1, out_channels)
    grad_weight = (grad_2d.T @ cols).reshape(weight.shape)
    grad_bias = grad_2d.sum(axis=0)
    if not need_input:
        return None, grad_weight, grad_bias
    n, oh, ow = grad_out.shape[:3]
    (sh, sw), (ph, pw) = stride, padding
    grad_cols = (grad_2d @ weight.reshape(out_channels, -1)).reshape(n, oh, ow, -1, kh, kw)
    _, h, w, c = x_shape
    grad_x = np.zeros((n, h + 2 * ph, w + 2 * pw, c), np.float32)
    for i in range(kh):  # col2im: every kernel offset adds its strided slice back
        for j in range(kw):
            grad_x[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] += \
                grad_cols[..., i, j]
    return grad_x[:, ph:ph + h, pw:pw + w], grad_weight, grad_bias


def _max_pool_forward(x):
    """2x2, stride 2 (floor) max pooling of NHWC x; returns the output and the argmax of each
    window (row-major in the window, the first maximum on ties, like PyTorch)."""
    n, h, w, c = x.shape
    oh, ow = h // 2, w // 2
    windows = (x[:, :oh * 2, :ow * 2, :].reshape(n, oh, 2, ow, 2, c)
               .transpose(0, 1, 3, 5, 2, 4).reshape(n, oh, ow, c, 4))
    argmax = windows.argmax(axis=-1)
    return np.take_along_axis(windows, argmax[..., None], -1)[..., 0], argmax


def _max_pool_backward(grad_out, argmax, x_shape):
    n, oh, ow, c = grad_out.shape
    grad_windows = np.zeros((n, oh, ow, c, 4), np.float32)
    np.put_along_axis(grad_windows, argmax[..., None], grad_out[..., None], -1)
    grad_x = np.zeros(x_shape, np.float32)
    grad_x[:, :oh * 2, :ow * 2, :] = (grad_windows.reshape(n, oh, ow, c, 2, 2)
                                      .transpose(0, 1, 4, 2, 5, 3).reshape(n, oh * 2, ow * 2, c))
    return grad_x


def _relu_(x):
    return np.maximum(x, 0.0, out=x)


class NumpyXor:
    """2-3-1 network, tanh hidden, sigmoid output, MSE loss, plain SGD."""

    def __init__(self, lr=0.1, seed=0):
        rng = np.random.default_rng(seed)
        self.w1, self.b1 = _linear_params(rng, 2, 3)
        self.w2, self.b2 = _linear_params(rng, 3, 1)
        self.lr = np.float32(lr)

    def predict(self, x):
        hidden = np.tanh(x @ self.w1.T + self.b1)
        return 1.0 / (1.0 + np.exp(-(hidden @ self.w2.T + self.b2)))

    def train_step(self, x, y):
        hidden = np.tanh(x @ self.w1.T + self.b1)
        out = 1.0 / (1.0 + np.exp(-(hidden @ self.w2.T + self.b2)))
        diff = out - y
        loss = np.mean(diff * diff)
        grad_z2 = (2.0 / diff.size) * diff * out * (1.0 - out)
        grad_hidden = grad_z2 @ self.w2
        grad_z1 = grad_hidden * (1.0 - hidden * hidden)
        self.w2 -= self.lr * (grad_z2.T @ hidden)
        self.b2 -= self.lr * grad_z2.sum(axis=0)
        self.w1 -= self.lr * (grad_z1.T @ x)
        self.b1 -= self.lr * grad_z1.sum(axis=0)
        return float(loss)


class NumpyMlp:
    """784-128-128-10 network, ReLU, softmax cross-entropy, Adam (PyTorch's update rule)."""

    def __init__(self, sizes=(784, 128, 128, 10), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 seed=0):
        rng = np.random.default_rng(seed)
        self.params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            self.params.extend(_linear_params(rng, fan_in, fan_out))
        self.optimizer = Adam(self.params, lr, betas, eps)

    def predict(self, x):
        for index in range(0, len(self.params), 2):
            weight, bias = self.params[index], self.params[index + 1]
            x = x @ weight.T + bias
            if index + 2 < len(self.params):
                np.maximum(x, 0.0, out=x)
        return x

    def train_step(self, x, target):
        activations = [x]
        for index in range(0, len(self.params), 2):
            weight, bias = self.params[index], self.params[index + 1]
            z = activations[-1] @ weight.T + bias
            if index + 2 < len(self.params):
                np.maximum(z, 0.0, out=z)
            activations.append(z)
        logits = activations.pop()

        loss, grad = _softmax_cross_entropy(logits, target)
        grads = [None] * len(self.params)
        for index in range(len(self.params) - 2, -1, -2):
            inputs = activations[index // 2]
            grads[index] = grad.T @ inputs
            grads[index + 1] = grad.sum(axis=0)
            if index > 0:
                grad = grad @ self.params[index]
                grad *= inputs > 0  # ReLU: inputs are the previous layer's ReLU output
        self.optimizer.step(grads)
        return float(loss)


class NumpyKerasCnn:
    """Conv2D(32,3,relu) - MaxPool(2) - Conv2D(64,3,relu) - MaxPool(2) - Flatten - Dense(10,
    softmax) on NHWC (N, 28, 28, 1) input, sparse categorical cross-entropy, Adam.

    The Dense weight is (10, 1600) with its columns in Keras' Flatten order (H, W, C).
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, seed=0):
        rng = np.random.default_rng(seed)
        self.params = [*_conv_params(rng, 32, 1, 3), *_conv_params(rng, 64, 32, 3),
                       *_linear_params(rng, 5 * 5 * 64, 10)]
        self.optimizer = Adam(self.params, lr, betas, eps)

    def _logits(self, x):
        w1, b1, w2, b2, w3, b3 = self.params
        a1, _ = _conv_forward(x, w1, b1)
        p1, _ = _max_pool_forward(_relu_(a1))
        a2, _ = _conv_forward(p1, w2, b2)
        p2, _ = _max_pool_forward(_relu_(a2))
        return p2.reshape(len(x), -1) @ w3.T + b3

    def predict(self, x):
        logits = self._logits(x)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def train_step(self, x, target):
        w1, b1, w2, b2, w3, b3 = self.params
        a1, cols1 = _conv_forward(x, w1, b1)
        p1, argmax1 = _max_pool_forward(_relu_(a1))
        a2, cols2 = _conv_forward(p1, w2, b2)
        p2, argmax2 = _max_pool_forward(_relu_(a2))
        flat = p2.reshape(len(x), -1)
        loss, grad = _softmax_cross_entropy(flat @ w3.T + b3, target)

        grad_w3, grad_b3 = grad.T @ flat, grad.sum(axis=0)
        grad_a2 = _max_pool_backward((grad @ w3).reshape(p2.shape), argmax2, a2.shape)
        grad_a2 *= a2 > 0
        grad_p1, grad_w2, grad_b2 = _conv_backward(grad_a2, cols2, p1.shape, w2)
        grad_a1 = _max_pool_backward(grad_p1, argmax1, a1.shape)
        grad_a1 *= a1 > 0
        _, grad_w1, grad_b1 = _conv_backward(grad_a1, cols1, x.shape, w1, need_input=False)
        self.optimizer.step([grad_w1, grad_b1, grad_w2, grad_b2, grad_w3, grad_b3])
        return float(loss)


class NumpyNet:
    """PyTorch's MNIST example `Net` on NCHW (N, 1, 28, 28) input: conv1(1,10,5) - max_pool 2 -
    relu - conv2(10,20,5) - Dropout2d - max_pool 2 - relu - view(-1, 320) - fc1(320,50) - relu -
    dropout - fc2(50,10) - log_softmax, NLL loss, SGD with momentum.

    Computed in NHWC; flattening goes through (C, H, W) order as `view(-1, 320)` does, so the
    weights are PyTorch's. `dropout=0` turns both dropouts off (check_numpy_models.py).
    """

    def __init__(self, lr=0.01, momentum=0.5, dropout=0.5, seed=0):
        self.rng = np.random.default_rng(seed)
        self.params = [*_conv_params(self.rng, 10, 1, 5), *_conv_params(self.rng, 20, 10, 5),
                       *_linear_params(self.rng, 320, 50), *_linear_params(self.rng, 50, 10)]
        self.optimizer = SgdMomentum(self.params, lr, momentum)
        self.dropout = dropout

    def _dropout_mask(self, shape):
        keep = self.rng.random(shape, dtype=np.float32) >= self.dropout
        return keep * np.float32(1.0 / (1.0 - self.dropout))

    def predict(self, x):
        w1, b1, w2, b2, fw1, fb1, fw2, fb2 = self.params
        x = x.transpose(0, 2, 3, 1)
        a1 = _relu_(_max_pool_forward(_conv_forward(x, w1, b1)[0])[0])
        a2 = _relu_(_max_pool_forward(_conv_forward(a1, w2, b2)[0])[0])
        hidden = _relu_(a2.transpose(0, 3, 1, 2).reshape(len(x), -1) @ fw1.T + fb1)
        logits = hidden @ fw2.T + fb2
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))

    def train_step(self, x, target):
        w1, b1, w2, b2, fw1, fb1, fw2, fb2 = self.params
        x = x.transpose(0, 2, 3, 1)  # NCHW -> NHWC, a view
        z1, cols1 = _conv_forward(x, w1, b1)
        p1, argmax1 = _max_pool_forward(z1)
        a1 = _relu_(p1)
        z2, cols2 = _conv_forward(a1, w2, b2)
        if self.dropout:  # Dropout2d: one mask value per (sample, channel)
            channel_mask = self._dropout_mask((len(x), 1, 1, z2.shape[3]))
            z2 *= channel_mask
        p2, argmax2 = _max_pool_forward(z2)
        a2 = _relu_(p2)
        flat = a2.transpose(0, 3, 1, 2).reshape(len(x), -1)
        hidden = _relu_(flat @ fw1.T + fb1)
        if self.dropout:
            hidden_mask = self._dropout_mask(hidden.shape)
            dropped = hidden * hidden_mask
        else:
            dropped = hidden
        loss, grad = _softmax_cross_entropy(dropped @ fw2.T + fb2, target)

        grad_fw2, grad_fb2 = grad.T @ dropped, grad.sum(axis=0)
        grad_hidden = grad @ fw2
        if self.dropout:
            grad_hidden *= hidden_mask
        grad_hidden *= hidden > 0
        grad_fw1, grad_fb1 = grad_hidden.T @ flat, grad_hidden.sum(axis=0)
        grad_a2 = (grad_hidden @ fw1).reshape(len(x), *a2.shape[3:], *a2.shape[1:3])
        grad_a2 = grad_a2.transpose(0, 2, 3, 1) * (a2 > 0)
        grad_z2 = _max_pool_backward(grad_a2, argmax2, z2.shape)
        if self.dropout:
            grad_z2 *= channel_mask
        grad_a1, grad_w2, grad_b2 = _conv_backward(grad_z2, cols2, a1.shape, w2)
        grad_a1 *= a1 > 0
        grad_z1 = _max_pool_backward(grad_a1, argmax1, z1.shape)
        _, grad_w1, grad_b1 = _conv_backward(grad_z1, cols1, x.shape, w1, need_input=False)
        self.optimizer.step([grad_w1, grad_b1, grad_w2, grad_b2, grad_fw1, grad_fb1,
                             grad_fw2, grad_fb2])
        return float(loss)


class NumpyMnist1dCnn:
    """The MNIST-1D CNN on (N, 40) input: Conv1d(1,25,5,stride 2,pad 1) - ReLU -
    Conv1d(25,25,3,2,1) - ReLU - Conv1d(25,25,3,2,1) - ReLU - Linear(125, 10), cross-entropy,
    Adam.

    The 1-D convolutions run as 2-D ones of height 1 on NHWC (N, 1, L, C) activations, with
    PyTorch's (O, C, K) weights given a height axis, (O, C, 1, K); flattening goes through
    (C, L) order as PyTorch's `view` does.
    """

    KERNELS, CHANNELS, STRIDE, PADDING = (5, 3, 3), 25, (1, 2), (0, 1)

    def __init__(self, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, seed=0):
        rng = np.random.default_rng(seed)
        self.params = []
        for index, kernel in enumerate(self.KERNELS):
            in_channels = 1 if index == 0 else self.CHANNELS
            self.params.extend(_conv_params(rng, self.CHANNELS, in_channels, (1, kernel)))
        # 5 positions after the three stride-2 convolutions: 40 -> 19 -> 10 -> 5
        self.params.extend(_linear_params(rng, self.CHANNELS * 5, 10))
        self.optimizer = Adam(self.params, lr, betas, eps)

    def _forward(self, x):
        """(logits, flattened features, per layer (input shape, im2col patches, output))."""
        h, layers = x.reshape(len(x), 1, -1, 1), []
        for index in range(len(self.KERNELS)):
            weight, bias = self.params[2 * index:2 * index + 2]
            out, cols = _conv_forward(h, weight, bias, self.STRIDE, self.PADDING)
            layers.append((h.shape, cols, _relu_(out)))
            h = out
        flat = h.transpose(0, 3, 1, 2).reshape(len(x), -1)
        weight, bias = self.params[-2:]
        return flat @ weight.T + bias, flat, layers

    def predict(self, x):
        return self._forward(x)[0]

    def train_step(self, x, target):
        logits, flat, layers = self._forward(x)
        loss, grad = _softmax_cross_entropy(logits, target)
        grads = [None] * len(self.params)
        grads[-2], grads[-1] = grad.T @ flat, grad.sum(axis=0)
        out_shape = layers[-1][2].shape
        grad = (grad @ self.params[-2]).reshape(len(x), out_shape[3], 1, out_shape[2])
        grad = grad.transpose(0, 2, 3, 1)  # (C, L) order back to NHWC
        for index in range(len(self.KERNELS) - 1, -1, -1):
            x_shape, cols, out = layers[index]
            grad = grad * (out > 0)
            grad, grads[2 * index], grads[2 * index + 1] = _conv_backward(
                grad, cols, x_shape, self.params[2 * index], index > 0, self.STRIDE,
                self.PADDING)
        self.optimizer.step(grads)
        return float(loss)
