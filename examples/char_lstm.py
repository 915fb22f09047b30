"""A character-level LSTM language model on Aesop's Fables, in the Keras face, then sampled.

`Embedding -> LSTM(return_sequences=True) -> Dense(softmax)` learns to predict every next
character of random 40-character windows of examples/data/aesop.txt (public domain, see
examples/data/README.md) for a bounded time, printing the loss as it falls; then it writes
text one character at a time, sampling from the predicted distribution sharpened or flattened
by a temperature, as the classic Keras text-generation example does:

    python examples/char_lstm.py [--seconds 40] [--max-steps N] [--temperatures 0.5 1.0]
"""

import argparse
import time
from pathlib import Path

import numpy as np

from ember import keras
from ember.keras import layers

CORPUS = Path(__file__).resolve().parent / "data" / "aesop.txt"


def random_windows(encoded, count, seq_len, rng):
    """`count` windows of `seq_len` characters and the same windows shifted by one: the targets."""
    starts = rng.integers(0, len(encoded) - seq_len - 1, count)
    rows = starts[:, None] + np.arange(seq_len)
    return encoded[rows], encoded[rows + 1]


def sample(model, prompt, length, temperature, char_to_id, id_to_char, seq_len, rng):
    """Appends `length` characters to `prompt`, each drawn from softmax(log p / temperature)."""
    ids = [char_to_id[c] for c in prompt]
    for _ in range(length):
        window = np.array([ids[-seq_len:]], dtype=np.int64)
        probs = model.predict_on_batch(window)[0, -1].astype(np.float64)
        logits = np.log(probs + 1e-12) / temperature
        probs = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return "".join(id_to_char[i] for i in ids)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="training time budget")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="also stop after this many training steps")
    parser.add_argument("--seq-len", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-per-report", type=int, default=10)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--length", type=int, default=300, help="characters sampled")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    text = " ".join(CORPUS.read_text(encoding="utf-8").split())  # one line, single spaces
    id_to_char = sorted(set(text))
    char_to_id = {c: i for i, c in enumerate(id_to_char)}
    encoded = np.array([char_to_id[c] for c in text], dtype=np.int64)
    vocab_size = len(id_to_char)
    print(f"{len(text)} characters, {vocab_size} distinct")

    model = keras.Sequential([
        keras.Input(shape=(None,)),                 # any sequence length: sampling grows it
        layers.Embedding(vocab_size, 32),
        layers.LSTM(128, return_sequences=True),    # a prediction after every character
        layers.Dense(vocab_size, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-2, clipnorm=5.0),
                  loss="sparse_categorical_crossentropy")

    start, steps = time.perf_counter(), 0
    while (time.perf_counter() - start < args.seconds
           and (args.max_steps is None or steps < args.max_steps)):
        x, y = random_windows(encoded, args.steps_per_report * args.batch_size, args.seq_len, rng)
        history = model.fit(x, y, batch_size=args.batch_size, epochs=1, verbose=0)
        steps += args.steps_per_report
        print(f"step {steps:4d}  {time.perf_counter() - start:5.1f} s  "
              f"loss {history.history['loss'][-1]:.4f}", flush=True)

    for temperature in args.temperatures:
        generated = sample(model, "The Fox ", args.length, temperature, char_to_id, id_to_char,
                           args.seq_len, rng)
        print(f"\n--- temperature {temperature} ---\n{generated}")


if __name__ == "__main__":
    main()
