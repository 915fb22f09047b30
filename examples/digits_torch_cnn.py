"""Classify the bundled 8x8 digits with a PyTorch-style CNN: `import ember as torch`.

The model follows PyTorch's MNIST example `Net` (two convolutions, Dropout2d, two linear
layers, log_softmax + NLL loss), sized for 8x8 images, trained with a DataLoader.
"""

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.datasets import load_digits
from ember.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
        self.conv2_drop = nn.Dropout2d(0.1)
        self.fc1 = nn.Linear(32 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))                   # 16 x 4 x 4
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))  # 32 x 2 x 2
        x = x.view(-1, 32 * 2 * 2)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, 0.2, training=self.training)
        return F.log_softmax(self.fc2(x), dim=1)


def as_tensors(images, labels):
    # uint8 (N, 8, 8) images with values 0..16 -> float32 (N, 1, 8, 8) in [0, 1]
    x = torch.from_numpy(images).float().unsqueeze(1) / 16
    return x, torch.from_numpy(labels).long()


torch.manual_seed(0)
(x_train, y_train), (x_test, y_test) = load_digits()
train_loader = DataLoader(TensorDataset(*as_tensors(x_train, y_train)), batch_size=32,
                          shuffle=True)
x_test, y_test = as_tensors(x_test, y_test)

model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
for epoch in range(1, 21):
    model.train()
    total = 0.0
    for data, target in train_loader:
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(data)
    if epoch % 5 == 0:
        print(f"epoch {epoch:2d}  train loss {total / len(train_loader.dataset):.4f}")

model.eval()
with torch.no_grad():
    predictions = model(x_test).argmax(dim=1)
accuracy = (predictions == y_test).float().mean().item()
print(f"Test accuracy: {accuracy:.4f}")
