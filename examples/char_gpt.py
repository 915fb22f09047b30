"""A small GPT (decoder-only transformer) on Aesop's Fables, character by character, in the
PyTorch face, then sampled with temperature and top-k.

Token and learned positional embeddings feed pre-LayerNorm blocks of causal self-attention
(F.scaled_dot_product_attention with is_causal=True) and a GELU MLP, each with a residual
connection; AdamW decays the weight matrices only. It trains on random windows of the first
90% of examples/data/aesop.txt (public domain, see examples/data/README.md) and reports the
loss per character (nats) on the last 10%, beside the unigram baseline: the loss of always
predicting the training text's character frequencies. Then it writes text one character at a
time, drawn with torch.multinomial from the top-k logits divided by a temperature:

    python examples/char_gpt.py             # the full run
    python examples/char_gpt.py --quick     # a smaller model for a few steps (under a minute)
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F

CORPUS = Path(__file__).resolve().parent / "data" / "aesop.txt"


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_head, dropout):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)   # query, key and value in one product
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, T, C) -> (B, heads, T, C / heads)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    """Pre-LN: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model, n_head, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                 nn.Linear(4 * d_model, d_model), nn.Dropout(dropout))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, d_model, n_head, n_layer, dropout):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)   # learned positions
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d_model, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        for name, p in self.named_parameters():   # GPT-2's small initial weights
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, mean=0.0, std=std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):
        B, T = idx.shape
        pos = torch.arange(T)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))   # (B, T, vocab) logits

    @torch.no_grad()
    def generate(self, idx, length, temperature=1.0, top_k=None):
        """Appends `length` tokens to idx (1, T), each drawn from the top-k of the last logits."""
        for _ in range(length):
            logits = self(idx[:, -self.block_size:])[:, -1, :] / temperature
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.shape[-1]))[0][:, -1:]
                logits = torch.where(logits < kth, torch.full_like(logits, float("-inf")),
                                     logits)
            next_id = torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)
            idx = torch.cat([idx, next_id], dim=1)
        return idx


def batch(data, block_size, batch_size, rng):
    starts = rng.integers(0, len(data) - block_size - 1, batch_size)
    rows = starts[:, None] + np.arange(block_size)
    return torch.from_numpy(data[rows]), torch.from_numpy(data[rows + 1])


@torch.no_grad()
def validation_loss(model, windows):
    """Mean cross-entropy per character (nats) over fixed validation windows."""
    model.eval()
    x, y = windows
    losses = [F.cross_entropy(model(x[i:i + 32]).reshape(-1, model.head.out_features),
                              y[i:i + 32].reshape(-1)).item() for i in range(0, len(x), 32)]
    model.train()
    return float(np.mean(losses))


def unigram_loss(train, val, vocab_size):
    """Cross-entropy of the validation text under the training text's character frequencies
    (add-one smoothed): what a model that ignores context scores."""
    counts = np.bincount(train, minlength=vocab_size) + 1.0
    return float(-np.log(counts / counts.sum())[val].mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small model, a few steps")
    parser.add_argument("--steps", type=int, default=None, help="training steps")
    parser.add_argument("--seconds", type=float, default=None, help="also stop after this long")
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--d-model", type=int, default=None)
    parser.add_argument("--layers", type=int, default=None)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=None)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--length", type=int, default=300, help="characters sampled")
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # 23,000 characters are soon learnt by heart: the full run stops before the validation
    # loss turns up again (with dropout 0.1 it did after ~600 steps) and drops out more.
    steps = args.steps or (150 if args.quick else 800)
    dropout = args.dropout if args.dropout is not None else (0.1 if args.quick else 0.2)
    d_model = args.d_model or (48 if args.quick else 128)
    n_layer = args.layers or (2 if args.quick else 4)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    text = " ".join(CORPUS.read_text(encoding="utf-8").split())  # one line, single spaces
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    starts = np.arange(0, len(val) - args.block_size - 1, args.block_size)
    rows = starts[:, None] + np.arange(args.block_size)
    val_windows = (torch.from_numpy(val[rows]), torch.from_numpy(val[rows + 1]))
    baseline = unigram_loss(train, val[rows + 1].reshape(-1), len(chars))
    print(f"{len(text)} characters, {len(chars)} distinct; "
          f"unigram baseline {baseline:.3f} nats/char")

    model = GPT(len(chars), args.block_size, d_model, args.heads, n_layer, dropout)
    decay = [p for p in model.parameters() if p.dim() >= 2]   # matrices, embeddings
    no_decay = [p for p in model.parameters() if p.dim() < 2]  # biases, LayerNorm
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=args.lr, betas=(0.9, 0.99))
    print(f"{sum(p.numel() for p in model.parameters())} parameters, {n_layer} layers, "
          f"d_model {d_model}, {args.heads} heads, block {args.block_size}")

    report = max(steps // 10, 1)
    start = time.perf_counter()
    for step in range(1, steps + 1):
        # linear warm-up, then cosine decay to a tenth
        warm = min(100, steps // 10)
        frac = step / warm if step <= warm else \
            0.1 + 0.45 * (1 + math.cos(math.pi * (step - warm) / max(steps - warm, 1)))
        for group in optimizer.param_groups:
            group["lr"] = args.lr * frac
        x, y = batch(train, args.block_size, args.batch_size, rng)
        loss = F.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        out_of_time = args.seconds is not None and time.perf_counter() - start > args.seconds
        if step % report == 0 or step == steps or out_of_time:
            print(f"step {step:5d}  {time.perf_counter() - start:6.1f} s  "
                  f"train loss {loss.item():.3f}  "
                  f"val loss {validation_loss(model, val_windows):.3f}",
                  flush=True)
        if out_of_time:
            break

    final = validation_loss(model, val_windows)
    print(f"Validation loss per character: {final:.3f} nats "
          f"(unigram baseline {baseline:.3f})")
    model.eval()
    prompt = torch.tensor([[stoi[c] for c in "The Fox "]])
    out = model.generate(prompt, args.length, temperature=args.temperature, top_k=args.top_k)
    print(f"\n--- temperature {args.temperature}, top-k {args.top_k} ---")
    print("".join(chars[i] for i in out[0].tolist()))


if __name__ == "__main__":
    main()
