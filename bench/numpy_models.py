"""The benchmark models written by hand in plain NumPy: forward, backward and optimizer.

They are the "no framework" baseline of bench_dense.py: the same maths as ember and PyTorch
(PyTorch's default Linear initialisation, mean-reduced losses, PyTorch's SGD and Adam
update rules), in float32, with in-place updates where NumPy allows them.
"""

import numpy as np


def _linear_params(rng, in_features, out_features):
    # PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias.
    bound = 1.0 / np.sqrt(in_features)
    weight = rng.uniform(-bound, bound, (out_features, in_features)).astype(np.float32)
    bias = rng.uniform(-bound, bound, out_features).astype(np.float32)
    return weight, bias


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
        self.exp_avgs = [np.zeros_like(p) for p in self.params]
        self.exp_avg_sqs = [np.zeros_like(p) for p in self.params]
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.step_count = 0

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

        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)
        rows = np.arange(len(target))
        loss = np.mean(np.log(sum_exp[:, 0]) - shifted[rows, target])

        grad = exp / sum_exp  # d loss / d logits = (softmax - one_hot) / batch
        grad[rows, target] -= 1.0
        grad /= len(target)
        grads = [None] * len(self.params)
        for index in range(len(self.params) - 2, -1, -2):
            inputs = activations[index // 2]
            grads[index] = grad.T @ inputs
            grads[index + 1] = grad.sum(axis=0)
            if index > 0:
                grad = grad @ self.params[index]
                grad *= inputs > 0  # ReLU: inputs are the previous layer's ReLU output
        self._adam(grads)
        return float(loss)

    def _adam(self, grads):
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
