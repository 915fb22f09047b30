"""The recurrent benchmark models written by hand in plain NumPy: forward, BPTT and Adam.

The "no framework" baseline of bench/models/rnn.py: Embedding -> 2-layer LSTM or GRU
(batch_first token input) -> Linear on the last time step, mean cross-entropy, PyTorch's
Adam. The maths and the parameter layouts are PyTorch's (gate order i, f, g, o for the LSTM
and r, z, n for the GRU, n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), default
U(-1/sqrt(H), 1/sqrt(H)) initialisation, N(0, 1) embedding), in float32. The input
projections of all time steps are one matrix product per layer, as are the weight gradients
after the backward loop; only the recurrent step loops over time. check_numpy_rnn_models.py
verifies both against PyTorch.
"""

import numpy as np

from bench.numpy_models import Adam, _linear_params, _softmax_cross_entropy


def _sigmoid(x):
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # = 1 / (1 + exp(-x)), without overflow warnings


class _LstmLayer:
    gates = 4

    @staticmethod
    def forward(x, w_ih, w_hh, b_ih, b_hh):
        """x (T, B, I) -> outputs (T, B, H) and the cache of backward."""
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1]
        projected = x @ w_ih.T
        projected += b_ih + b_hh
        h, c = np.zeros((batch, hidden), np.float32), np.zeros((batch, hidden), np.float32)
        hs = np.empty((steps + 1, batch, hidden), np.float32)
        hs[0] = h
        acts = np.empty((steps, batch, 4 * hidden), np.float32)  # i, f, g, o after activation
        cs = np.empty((steps + 1, batch, hidden), np.float32)
        cs[0] = c
        tanh_cs = np.empty((steps, batch, hidden), np.float32)
        for t in range(steps):
            gates = projected[t] + h @ w_hh.T
            i, f = _sigmoid(gates[:, :hidden]), _sigmoid(gates[:, hidden:2 * hidden])
            g, o = np.tanh(gates[:, 2 * hidden:3 * hidden]), _sigmoid(gates[:, 3 * hidden:])
            c = f * c + i * g
            tanh_cs[t] = np.tanh(c)
            h = o * tanh_cs[t]
            acts[t, :, :hidden], acts[t, :, hidden:2 * hidden] = i, f
            acts[t, :, 2 * hidden:3 * hidden], acts[t, :, 3 * hidden:] = g, o
            hs[t + 1], cs[t + 1] = h, c
        return hs[1:], (x, hs, cs, acts, tanh_cs)

    @staticmethod
    def backward(grad_out, cache, w_ih, w_hh, need_input):
        """(grad_x or None, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh)."""
        x, hs, cs, acts, tanh_cs = cache
        steps, batch, hidden = grad_out.shape
        grad_gates = np.empty((steps, batch, 4 * hidden), np.float32)
        dh = np.zeros((batch, hidden), np.float32)
        dc = np.zeros((batch, hidden), np.float32)
        for t in range(steps - 1, -1, -1):
            i, f = acts[t, :, :hidden], acts[t, :, hidden:2 * hidden]
            g, o = acts[t, :, 2 * hidden:3 * hidden], acts[t, :, 3 * hidden:]
            dh = dh + grad_out[t]
            dc = dc + dh * o * (1.0 - tanh_cs[t] ** 2)
            grad_gates[t, :, :hidden] = dc * g * i * (1.0 - i)
            grad_gates[t, :, hidden:2 * hidden] = dc * cs[t] * f * (1.0 - f)
            grad_gates[t, :, 2 * hidden:3 * hidden] = dc * i * (1.0 - g * g)
            grad_gates[t, :, 3 * hidden:] = dh * tanh_cs[t] * o * (1.0 - o)
            dc = dc * f
            dh = grad_gates[t] @ w_hh
        flat = grad_gates.reshape(steps * batch, -1)
        grad_w_ih = flat.T @ x.reshape(steps * batch, -1)
        grad_w_hh = flat.T @ hs[:-1].reshape(steps * batch, -1)
        grad_b = flat.sum(axis=0)
        grad_x = (grad_gates @ w_ih) if need_input else None
        return grad_x, grad_w_ih, grad_w_hh, grad_b, grad_b.copy()


class _GruLayer:
    gates = 3

    @staticmethod
    def forward(x, w_ih, w_hh, b_ih, b_hh):
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1]
        projected = x @ w_ih.T
        projected += b_ih
        h = np.zeros((batch, hidden), np.float32)
        hs = np.empty((steps + 1, batch, hidden), np.float32)
        hs[0] = h
        acts = np.empty((steps, batch, 3 * hidden), np.float32)  # r, z, n after activation
        hidden_n = np.empty((steps, batch, hidden), np.float32)  # W_hn h + b_hn
        for t in range(steps):
            recurrent = h @ w_hh.T
            recurrent += b_hh
            rz = _sigmoid(projected[t, :, :2 * hidden] + recurrent[:, :2 * hidden])
            r, z = rz[:, :hidden], rz[:, hidden:]
            n = np.tanh(projected[t, :, 2 * hidden:] + r * recurrent[:, 2 * hidden:])
            h = (1.0 - z) * n + z * h
            acts[t, :, :2 * hidden], acts[t, :, 2 * hidden:] = rz, n
            hidden_n[t] = recurrent[:, 2 * hidden:]
            hs[t + 1] = h
        return hs[1:], (x, hs, acts, hidden_n)

    @staticmethod
    def backward(grad_out, cache, w_ih, w_hh, need_input):
        x, hs, acts, hidden_n = cache
        steps, batch, hidden = grad_out.shape
        grad_input_side = np.empty((steps, batch, 3 * hidden), np.float32)   # d pre-activations
        grad_hidden_side = np.empty((steps, batch, 3 * hidden), np.float32)  # d (W_hh h + b_hh)
        dh = np.zeros((batch, hidden), np.float32)
        for t in range(steps - 1, -1, -1):
            r, z = acts[t, :, :hidden], acts[t, :, hidden:2 * hidden]
            n = acts[t, :, 2 * hidden:]
            dh = dh + grad_out[t]
            dn = dh * (1.0 - z) * (1.0 - n * n)
            dr = dn * hidden_n[t] * r * (1.0 - r)
            dz = dh * (hs[t] - n) * z * (1.0 - z)
            grad_input_side[t, :, :hidden], grad_input_side[t, :, hidden:2 * hidden] = dr, dz
            grad_input_side[t, :, 2 * hidden:] = dn
            grad_hidden_side[t, :, :2 * hidden] = grad_input_side[t, :, :2 * hidden]
            grad_hidden_side[t, :, 2 * hidden:] = dn * r
            dh = dh * z + grad_hidden_side[t] @ w_hh
        flat_in = grad_input_side.reshape(steps * batch, -1)
        flat_hidden = grad_hidden_side.reshape(steps * batch, -1)
        grad_w_ih = flat_in.T @ x.reshape(steps * batch, -1)
        grad_w_hh = flat_hidden.T @ hs[:-1].reshape(steps * batch, -1)
        grad_x = (grad_input_side @ w_ih) if need_input else None
        return grad_x, grad_w_ih, grad_w_hh, flat_in.sum(axis=0), flat_hidden.sum(axis=0)


class NumpyRnnClassifier:
    """Embedding(vocab, embed) -> `num_layers` LSTM/GRU layers -> Linear(hidden, classes) on
    the last step; input (B, T) token ids, batch_first. `params` is in the order of PyTorch's
    `model.parameters()`: embedding, then per layer w_ih, w_hh, b_ih, b_hh, then fc."""

    def __init__(self, mode="lstm", vocab_size=10000, embedding_dim=128, hidden_size=128,
                 num_layers=2, num_classes=2, lr=1e-3, seed=0):
        self.cell = {"lstm": _LstmLayer, "gru": _GruLayer}[mode]
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden_size)
        gates = self.cell.gates * hidden_size
        self.params = [rng.standard_normal((vocab_size, embedding_dim)).astype(np.float32)]
        for layer in range(num_layers):
            inputs = embedding_dim if layer == 0 else hidden_size
            for shape in ((gates, inputs), (gates, hidden_size), (gates,), (gates,)):
                self.params.append(rng.uniform(-bound, bound, shape).astype(np.float32))
        self.params += [rng.uniform(-bound, bound, (num_classes, hidden_size)).astype(np.float32),
                        rng.uniform(-bound, bound, num_classes).astype(np.float32)]
        self.num_layers = num_layers
        self.optimizer = Adam(self.params, lr=lr)

    def _layer_params(self, layer):
        return self.params[1 + 4 * layer:5 + 4 * layer]

    def _forward(self, tokens):
        x = self.params[0][tokens.T]  # time-major (T, B, E)
        caches = []
        for layer in range(self.num_layers):
            x, cache = self.cell.forward(x, *self._layer_params(layer))
            caches.append(cache)
        fc_w, fc_b = self.params[-2:]
        return x[-1] @ fc_w.T + fc_b, x[-1], caches

    def predict(self, tokens):
        return self._forward(tokens)[0]

    def train_step(self, tokens, target):
        logits, last_h, caches = self._forward(tokens)
        loss, grad_logits = _softmax_cross_entropy(logits, target)
        fc_w = self.params[-2]
        grads = [None] * len(self.params)
        grads[-2], grads[-1] = grad_logits.T @ last_h, grad_logits.sum(axis=0)
        steps, batch = tokens.shape[1], tokens.shape[0]
        grad_out = np.zeros((steps, batch, fc_w.shape[1]), np.float32)
        grad_out[-1] = grad_logits @ fc_w  # only the last step feeds the classifier
        for layer in range(self.num_layers - 1, -1, -1):
            w_ih, w_hh = self._layer_params(layer)[:2]
            grad_out, *layer_grads = self.cell.backward(grad_out, caches[layer], w_ih, w_hh,
                                                        need_input=True)
            grads[1 + 4 * layer:5 + 4 * layer] = layer_grads
        grad_embedding = np.zeros_like(self.params[0])
        np.add.at(grad_embedding, tokens.T.reshape(-1), grad_out.reshape(steps * batch, -1))
        grads[0] = grad_embedding
        self.optimizer.step(grads)
        return float(loss)


class NumpyMnist1dGru:
    """The MNIST-1D GRU classifier on (N, L) input: a bidirectional GRU(1, H, batch_first)
    over the L samples, every step's [forward, reverse] output (L x 2H features) into
    Linear(L * 2H, classes); cross-entropy, Adam. `params` is in the order of PyTorch's
    `model.parameters()`: w_ih, w_hh, b_ih, b_hh of the forward direction, the same of the
    reverse direction, then the Linear weight and bias."""

    def __init__(self, hidden_size=6, length=40, num_classes=10, lr=1e-2, seed=0):
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(hidden_size)
        gates = 3 * hidden_size
        self.params = [rng.uniform(-bound, bound, shape).astype(np.float32)
                       for _ in range(2) for shape in ((gates, 1), (gates, hidden_size),
                                                       (gates,), (gates,))]
        self.params.extend(_linear_params(rng, length * 2 * hidden_size, num_classes))
        self.hidden_size = hidden_size
        self.optimizer = Adam(self.params, lr=lr)

    def _forward(self, x):
        steps = x.T[:, :, None]  # time-major (L, N, 1)
        forward, forward_cache = _GruLayer.forward(steps, *self.params[0:4])
        reverse, reverse_cache = _GruLayer.forward(steps[::-1], *self.params[4:8])
        outputs = np.concatenate([forward, reverse[::-1]], axis=2)  # (L, N, 2H)
        flat = outputs.transpose(1, 0, 2).reshape(len(x), -1)
        weight, bias = self.params[8:]
        return flat @ weight.T + bias, flat, (forward_cache, reverse_cache)

    def predict(self, x):
        return self._forward(x)[0]

    def train_step(self, x, target):
        logits, flat, (forward_cache, reverse_cache) = self._forward(x)
        loss, grad = _softmax_cross_entropy(logits, target)
        hidden = self.hidden_size
        grads = [None] * len(self.params)
        grads[8], grads[9] = grad.T @ flat, grad.sum(axis=0)
        grad_outputs = (grad @ self.params[8]).reshape(len(x), -1, 2 * hidden).transpose(1, 0, 2)
        grads[0:4] = _GruLayer.backward(grad_outputs[:, :, :hidden], forward_cache,
                                        *self.params[0:2], need_input=False)[1:]
        grads[4:8] = _GruLayer.backward(grad_outputs[::-1, :, hidden:], reverse_cache,
                                        *self.params[4:6], need_input=False)[1:]
        self.optimizer.step(grads)
        return float(loss)
