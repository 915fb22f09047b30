"""Tell Aesop from Alice: an LSTM sentence classifier in the PyTorch face (`import ember as torch`).

Every sentence of the two bundled public-domain texts (examples/data/README.md) is labelled
with its source: 0 = Aesop's Fables (Townsend), 1 = Alice in Wonderland retold in words of one
syllable (Gorham). The model is the classic `Embedding -> LSTM(num_layers=2, batch_first=True)
-> Linear` on the last time step, trained with a DataLoader; a quarter of the sentences is held
out. Runs offline in a few seconds:

    python examples/text_classifier.py [--epochs 12] [--seed 0]
"""

import argparse
import re
from collections import Counter
from pathlib import Path

import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.utils.data import DataLoader, TensorDataset

DATA = Path(__file__).resolve().parent / "data"
SOURCES = ("aesop.txt", "alice_one_syllable.txt")
PAD, UNK = 0, 1       # reserved token ids; padding_idx=PAD keeps the padding row at zero
MAX_LEN = 40          # longer sentences keep their last MAX_LEN words


def sentences(text):
    text = " ".join(text.split())
    return [s for s in re.split(r"(?<=[.!?])[\"”’']?\s+", text) if len(s.split()) >= 3]


def words(sentence):
    # Lower case and no syllable hyphens ("Al-ice" -> "alice"): the classifier must use words.
    return re.findall(r"[a-z']+", sentence.lower().replace("-", ""))


def build_vocabulary(tokenized, min_count=1):
    counts = Counter(word for sentence in tokenized for word in sentence)
    vocabulary = {"<pad>": PAD, "<unk>": UNK}
    for word, count in counts.most_common():
        if count >= min_count:
            vocabulary[word] = len(vocabulary)
    return vocabulary


def encode(tokenized, vocabulary):
    """Token ids, left-padded to MAX_LEN so that the last time step is the sentence's last word."""
    ids = np.full((len(tokenized), MAX_LEN), PAD, dtype=np.int64)
    for row, sentence in enumerate(tokenized):
        tokens = [vocabulary.get(word, UNK) for word in sentence][-MAX_LEN:]
        ids[row, MAX_LEN - len(tokens):] = tokens
    return ids


class SentenceClassifier(nn.Module):
    def __init__(self, vocab_size, embedding_dim=32, hidden_size=64, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=2, batch_first=True)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x):
        output, (h_n, c_n) = self.lstm(self.embedding(x))  # output: (batch, seq, hidden)
        return self.fc(output[:, -1])                      # logits from the last time step


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    texts, labels = [], []
    for label, name in enumerate(SOURCES):
        found = sentences((DATA / name).read_text(encoding="utf-8"))
        texts += [words(s) for s in found]
        labels += [label] * len(found)
    labels = np.array(labels, dtype=np.int64)
    order = rng.permutation(len(texts))
    n_test = len(texts) // 4
    test_rows, train_rows = order[:n_test], order[n_test:]

    # The vocabulary comes from the training sentences only; unseen words become <unk>.
    vocabulary = build_vocabulary([texts[i] for i in train_rows])
    ids = encode(texts, vocabulary)
    print(f"{len(texts)} sentences ({np.bincount(labels).tolist()} per source), "
          f"vocabulary {len(vocabulary)} words, {len(train_rows)} train / {n_test} held out")

    x_train, y_train = torch.from_numpy(ids[train_rows]), torch.from_numpy(labels[train_rows])
    x_test, y_test = torch.from_numpy(ids[test_rows]), torch.from_numpy(labels[test_rows])
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)

    model = SentenceClassifier(len(vocabulary))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    for epoch in range(1, args.epochs + 1):
        model.train()
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
            optimizer.step()
            total += loss.item() * len(x)
        print(f"epoch {epoch:2d}  train loss {total / len(x_train):.4f}")

    model.eval()
    with torch.no_grad():
        predictions = model(x_test).argmax(dim=1)
    accuracy = (predictions == y_test).float().mean().item()
    majority = np.bincount(labels[test_rows]).max() / n_test
    print(f"Held-out accuracy: {accuracy:.4f} (majority-class baseline {majority:.4f})")


if __name__ == "__main__":
    main()
