"""Look inside a digits CNN with ember.viz: training curves, the first layer's filters, the
feature maps of the second, saliency maps, Grad-CAM, the confusion matrix on the test set and
the weight histograms, written as PNGs into a folder.

    python examples/visualize_digits.py                      # 15 epochs, PNGs in ./digits_viz
    python examples/visualize_digits.py --quick --out /tmp/v  # 3 epochs (a few seconds)

The model is examples/digits_torch_cnn.py's (PyTorch face). Needs matplotlib:
pip install "ember[viz]".
"""
import argparse
from pathlib import Path

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember import viz
from ember.datasets import load_digits
from ember.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))  # 16 x 4 x 4
        x = F.relu(F.max_pool2d(self.conv2(x), 2))  # 32 x 2 x 2
        x = F.relu(self.fc1(x.view(-1, 32 * 2 * 2)))
        x = F.dropout(x, 0.2, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)


def as_tensors(images, labels):
    # uint8 (N, 8, 8) images with values 0..16 -> float32 (N, 1, 8, 8) in [0, 1]
    return torch.from_numpy(images).float().unsqueeze(1) / 16, torch.from_numpy(labels).long()


def evaluate(model, x, y):
    model.eval()
    with torch.no_grad():
        output = model(x)
    return F.nll_loss(output, y).item(), (output.argmax(dim=1) == y).float().mean().item()


def train(model, loader, x_test, y_test, epochs):
    """The PyTorch loop, keeping Keras-style logs (one dict per epoch) for plot_history."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = []
    for epoch in range(1, epochs + 1):
        model.train()
        total, correct = 0.0, 0
        for data, target in loader:
            optimizer.zero_grad()
            output = model(data)
            loss = F.nll_loss(output, target)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(data)
            correct += (output.argmax(dim=1) == target).sum().item()
        val_loss, val_accuracy = evaluate(model, x_test, y_test)
        size = len(loader.dataset)
        history.append({"loss": total / size, "accuracy": correct / size,
                        "val_loss": val_loss, "val_accuracy": val_accuracy})
        print(f"epoch {epoch:2d}  loss {total / size:.4f}  val_accuracy {val_accuracy:.4f}")
    return history


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="digits_viz", help="folder for the PNGs")
    parser.add_argument("--quick", action="store_true", help="3 epochs instead of 15")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits()
    loader = DataLoader(TensorDataset(*as_tensors(x_train, y_train)), batch_size=32,
                        shuffle=True)
    x_test, y_test = as_tensors(x_test, y_test)
    model = Net()
    history = train(model, loader, x_test, y_test, epochs=3 if args.quick else 15)
    _, accuracy = evaluate(model, x_test, y_test)
    print(f"Test accuracy: {accuracy:.4f}")

    with torch.no_grad():
        predictions = model(x_test).argmax(dim=1)
    samples = x_test[:4]
    viz.plot_history(history, path=out / "history.png")
    viz.plot_filters(model.conv1, out / "filters.png")
    viz.plot_feature_maps(model, "conv2", samples, out / "feature_maps.png")
    viz.plot_saliency(model, samples, path=out / "saliency.png")
    viz.plot_grad_cam(model, "conv2", samples, path=out / "grad_cam.png")
    viz.plot_confusion_matrix(y_test, predictions, path=out / "confusion_matrix.png")
    viz.plot_weight_histograms(model, out / "weight_histograms.png")
    written = sorted(p.name for p in out.glob("*.png"))
    print(f"Wrote {len(written)} images to {out}: {', '.join(written)}")


if __name__ == "__main__":
    main()
