"""The judge of the generative digit examples: a small CNN trained on the real 8x8 digits
labels a batch of generated ones. A generator whose images are digits gets most of them
labelled with high confidence; noise and blurred blends get low confidence.

Images are (N, 1, 8, 8) arrays or tensors scaled to [-1, 1], as the GANs produce them.
"""
import numpy as np

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.datasets import load_digits
from ember.utils.data import DataLoader, TensorDataset


def real_digits(split="train"):
    """The bundled digits as float32 (N, 1, 8, 8) in [-1, 1] and int64 labels."""
    train, test = load_digits()
    images, labels = train if split == "train" else test
    return (images.astype(np.float32)[:, None] / 8 - 1), labels.astype(np.int64)


def train_classifier(epochs=15, seed=0):
    """A CNN trained on the real training digits; prints its test accuracy."""
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 4 x 4
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 2 x 2
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(256, 10))
    x, y = real_digits("train")
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=32,
                        shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(epochs):
        model.train()
        for data, target in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(data), target).backward()
            optimizer.step()
    model.eval()
    x_test, y_test = real_digits("test")
    with torch.no_grad():
        predicted = model(torch.from_numpy(x_test)).argmax(dim=1).numpy()
    print(f"Judge test accuracy on real digits: {(predicted == y_test).mean():.4f}")
    return model


def judge(classifier, images, threshold=0.9):
    """(share of images labelled with confidence >= threshold, count of each label among
    those) for generated images in [-1, 1]."""
    images = torch.as_tensor(np.asarray(images, dtype=np.float32).reshape(-1, 1, 8, 8))
    with torch.no_grad():
        confidence, label = F.softmax(classifier(images), dim=1).max(dim=1)
    sure = confidence.numpy() >= threshold
    return float(sure.mean()), np.bincount(label.numpy()[sure], minlength=10)


def report(classifier, images):
    """Prints the judged figure in the one format the examples and their tests share."""
    share, per_class = judge(classifier, images)
    print(f"Confidently labelled generated digits: {share:.4f} of {len(images)} "
          f"(per digit: {' '.join(str(int(n)) for n in per_class)})")
    return share
