"""A transformer block as a small causal language model trains it (issue 12), batch 32 of
64-token sequences, random tokens of a 65-character vocabulary (nothing is downloaded):

transformer_block: Embedding(65, 128) -> nn.TransformerEncoderLayer(d_model 128, 4 heads,
                   dim_feedforward 512, dropout 0.1, batch_first, norm_first) with the causal
                   mask (is_causal=True) -> Linear(128, 65), cross-entropy over every position,
                   Adam lr 1e-3. PyTorch-face code, identical for ember and torch; no NumPy
                   model. Issue 12's target: at least 1.3x PyTorch.
"""

import numpy as np

from bench.steps import Model, Targets, framework_implementations, framework_steps

BATCH, SEQ, D_MODEL, HEADS, FF, VOCAB = 32, 64, 128, 4, 512, 65


def _data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, (BATCH, SEQ)).astype(np.int64)
    return x, rng.integers(0, VOCAB, BATCH * SEQ).astype(np.int64)


def _block(lib):
    nn = lib.nn
    mask = nn.Transformer.generate_square_subsequent_mask(SEQ)

    class CausalBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, D_MODEL)
            self.block = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.1,
                                                    batch_first=True, norm_first=True)
            self.head = nn.Linear(D_MODEL, VOCAB)

        def forward(self, tokens):
            h = self.block(self.embed(tokens), src_mask=mask[:tokens.shape[1], :tokens.shape[1]],
                           is_causal=True)
            return self.head(h).reshape(-1, VOCAB)

    net = CausalBlock()
    x, y = _data()
    steps = framework_steps(lib, net, nn.CrossEntropyLoss(),
                            lib.optim.Adam(net.parameters(), lr=1e-3), x, y)
    return steps


# Multiply-adds of the GEMMs (x2 for FLOP): per token the QKV, output, two feed-forward and
# head projections; per sequence the scores and the weighted values. Backward is twice forward.
_TOKENS = BATCH * SEQ
_FORWARD = 2 * (_TOKENS * D_MODEL * (3 * D_MODEL + D_MODEL + 2 * FF + VOCAB)
                + 2 * BATCH * SEQ * SEQ * D_MODEL)

MODELS = (
    Model("transformer_block", "Transformer block (d 128, 4 heads, seq 64), batch 32, Adam",
          "Transformer block", BATCH, Targets(train=1.3),
          framework_implementations(_block), flop={"train": 3 * _FORWARD, "infer": _FORWARD}),
)
