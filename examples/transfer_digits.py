"""Transfer learning on the bundled 8x8 digits: reuse convolutional features learned on digits
0-4 to learn digits 5-9 from a tenth of their training images.

1. Train a small CNN on digits 0-4 (all of their training images).
2. Freeze its convolutional layers (``requires_grad_(False)``; Keras: ``trainable = False``),
   give it a new head for digits 5-9 and train only the head on a tenth of the 5-9 images.
3. Train the same network from scratch on the same small set, and compare test accuracies.
   Steps 2 and 3 run ten times (new heads, new networks, other shuffles) and the means are
   compared: on 8x8 digits training from scratch is already good, and the gain (about one
   point) is smaller than the spread of single runs.

    python examples/transfer_digits.py                # PyTorch face: import ember as torch
    python examples/transfer_digits.py --keras        # Keras face: a functional model
    python examples/transfer_digits.py --from-torch-state-dict base.pt
        # step 1 in real PyTorch (needs torch): the same code trains the base there, saves its
        # state_dict (or reuses the file if it exists); ember loads the convolutional part
    python examples/transfer_digits.py --quick        # fewer epochs, 3 runs (the test's run)
"""
import argparse
import os
import sys
from collections import OrderedDict

import numpy as np

import ember
import ember.utils.data  # noqa: F401  (ember.utils.data.DataLoader, as torch.utils.data)
from ember import keras
from ember.datasets import load_digits
from ember.keras import layers

NEW_CLASSES = (5, 6, 7, 8, 9)


def digits_tasks(channels_last):
    """(base training set, base test set, small new training set, new test set): images
    float32 in [0, 1]; labels 0..4 (digit d of the new task is label d - 5). The small set is a
    tenth of each new digit's training images."""
    (x_train, y_train), (x_test, y_test) = load_digits()
    shape = (-1, 8, 8, 1) if channels_last else (-1, 1, 8, 8)
    x_train = x_train.reshape(shape).astype(np.float32) / 16
    x_test = x_test.reshape(shape).astype(np.float32) / 16
    y_train, y_test = y_train.astype(np.int64), y_test.astype(np.int64)
    small = np.concatenate([np.flatnonzero(y_train == d)[:(y_train == d).sum() // 10]
                            for d in NEW_CLASSES])
    small = np.random.default_rng(0).permutation(small)
    old_train, old_test, new_test = y_train < 5, y_test < 5, y_test >= 5
    return ((x_train[old_train], y_train[old_train]), (x_test[old_test], y_test[old_test]),
            (x_train[small], y_train[small] - 5), (x_test[new_test], y_test[new_test] - 5))


# ---- PyTorch face: the same code runs with lib = ember or lib = torch ---------------------------
def make_net(nn, num_classes=5):
    """Convolutional features (32 maps of 4x4), then a classifier head (state_dict keys
    "features.*", "head.*" in either library)."""
    features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten())
    return nn.Sequential(OrderedDict(features=features, head=make_head(nn, num_classes)))


def make_head(nn, num_classes=5):
    return nn.Sequential(nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, num_classes))


def train(lib, model, x, y, epochs, lr=3e-3):
    """Adam on the parameters that require gradients (the frozen ones are left out, as
    PyTorch users write it), cross-entropy, batches of 16."""
    loader = lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.from_numpy(x), lib.from_numpy(y)), batch_size=16,
        shuffle=True)
    optimizer = lib.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=lr)
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
    return model


def accuracy(lib, model, x, y):
    model.eval()
    with lib.no_grad():
        predicted = model(lib.from_numpy(x)).argmax(dim=1).numpy()
    return float((predicted == y).mean())


def count(params):
    return sum(p.numel() for p in params)


def torch_face(args, epochs):
    torch, nn = ember, ember.nn
    base_task, base_test, small_task, test_task = digits_tasks(channels_last=False)
    torch.manual_seed(0)
    if args.from_torch_state_dict:
        model = make_net(nn)
        load_pytorch_features(model, args.from_torch_state_dict, base_task, base_test,
                              epochs["base"])
    else:
        model = train(torch, make_net(nn), *base_task, epochs["base"])
        print(f"Base network, digits 0-4: test accuracy "
              f"{accuracy(torch, model, *base_test):.4f}")

    model.features.requires_grad_(False)  # freeze the convolutional layers
    model.head = make_head(nn)  # a new head for digits 5-9 (trainable)
    print(f"Trainable parameters: {count(p for p in model.parameters() if p.requires_grad):,} "
          f"of {count(model.parameters()):,}")
    frozen = [p.detach().clone() for p in model.features.parameters()]
    transfer, scratch = [], []
    for run in range(args.runs):
        torch.manual_seed(run + 1)
        model.head = make_head(nn)
        transfer.append(accuracy(torch, train(torch, model, *small_task, epochs["head"]),
                                 *test_task))
        scratch.append(accuracy(torch, train(torch, make_net(nn), *small_task, epochs["head"]),
                                *test_task))
    assert all(torch.equal(a, b) for a, b in zip(frozen, model.features.parameters()))
    report(len(small_task[1]), transfer, scratch)


def load_pytorch_features(model, path, base_task, base_test, epochs):
    """Step 1 in real PyTorch (the same make_net and train), saved with torch.save; then the
    convolutional part of that state_dict loaded into ember's network."""
    try:
        import torch
    except ImportError:
        sys.exit("--from-torch-state-dict needs PyTorch (pip install torch) to train the base "
                 "network and to read its state_dict file")
    if not os.path.exists(path):
        torch.manual_seed(0)
        trained = train(torch, make_net(torch.nn), *base_task, epochs)
        print(f"Base network trained in PyTorch {torch.__version__}, digits 0-4: test accuracy "
              f"{accuracy(torch, trained, *base_test):.4f}")
        torch.save(trained.state_dict(), path)
        print(f"Saved its state_dict to {path}")
    state = torch.load(path, weights_only=True)
    features = {key: value.numpy() for key, value in state.items()
                if key.startswith("features.")}
    missing, unexpected = model.load_state_dict(features, strict=False)
    print(f"Loaded {len(features)} PyTorch tensors into ember; left to train: {missing}")

    # The same weights give the same features in both libraries.
    reference = make_net(torch.nn)
    reference.load_state_dict(state)
    x = base_task[0][:64]
    with torch.no_grad():
        theirs = reference.features(torch.from_numpy(x)).numpy()
    with ember.no_grad():
        ours = model.features(ember.from_numpy(x)).numpy()
    print(f"ember's features equal PyTorch's: max |difference| "
          f"{np.abs(ours - theirs).max():.1e}")


# ---- Keras face -----------------------------------------------------------------------------
def keras_face(args, epochs):
    base_task, base_test, small_task, test_task = digits_tasks(channels_last=True)
    keras.utils.set_random_seed(0)

    def make_base():
        return keras.Sequential([
            keras.Input((8, 8, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
            layers.Flatten()], name="base")

    def with_head(base, training=None):
        inputs = keras.Input((8, 8, 1))
        x = base(inputs) if training is None else base(inputs, training=training)
        x = layers.Dense(64, activation="relu")(x)
        model = keras.Model(inputs, layers.Dense(5, activation="softmax")(x))
        model.compile(optimizer=keras.optimizers.Adam(3e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit_and_test(model):
        model.fit(*small_task, epochs=epochs["head"], batch_size=16, verbose=0)
        return model.evaluate(*test_task, verbose=0)[1]

    base = make_base()
    model = with_head(base)
    model.fit(*base_task, epochs=epochs["base"], batch_size=16, verbose=0)
    print(f"Base network, digits 0-4: test accuracy "
          f"{model.evaluate(*base_test, verbose=0)[1]:.4f}")

    base.trainable = False  # freeze the convolutional layers
    with_head(base, training=False).summary()  # (the base runs in inference mode)
    frozen = base.get_weights()
    transfer, scratch = [], []
    for run in range(args.runs):
        keras.utils.set_random_seed(run + 1)
        transfer.append(fit_and_test(with_head(base, training=False)))  # a new head
        scratch.append(fit_and_test(with_head(make_base())))
    assert all(np.array_equal(a, b) for a, b in zip(frozen, base.get_weights()))
    report(len(small_task[1]), transfer, scratch)


def report(n_small, transfer, scratch):
    """Test accuracies on digits 5-9: the mean of the runs, then each run."""
    def line(values):
        return f"{np.mean(values):.4f} (runs: {', '.join(f'{v:.3f}' for v in values)})"
    gain = np.mean(transfer) - np.mean(scratch)
    print(f"Digits 5-9 from {n_small} training images, mean test accuracy of "
          f"{len(transfer)} runs:")
    print(f"  frozen features from digits 0-4 + new head: {line(transfer)}")
    print(f"  the same network from scratch:             {line(scratch)}")
    print(f"Transfer learning {'wins' if gain > 0 else 'does not win'} by {gain:+.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keras", action="store_true", help="use the Keras face")
    parser.add_argument("--from-torch-state-dict", metavar="FILE",
                        help="start from a base network trained in PyTorch (saved to FILE "
                             "first if FILE does not exist)")
    parser.add_argument("--runs", type=int, default=10,
                        help="how many new heads and networks from scratch to train")
    parser.add_argument("--quick", action="store_true", help="fewer epochs and 3 runs")
    args = parser.parse_args()
    if args.keras and args.from_torch_state_dict:
        parser.error("--from-torch-state-dict starts the PyTorch face; leave out --keras")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.quick:
        args.runs = min(args.runs, 3)
    epochs = {"base": 5, "head": 30} if args.quick else {"base": 10, "head": 30}
    (keras_face if args.keras else torch_face)(args, epochs)


if __name__ == "__main__":
    main()
