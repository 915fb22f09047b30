"""Train the digits CNN data-parallel over MPI with the PyTorch face: DistributedDataParallel
averages the gradients, DistributedSampler gives each rank its share of every epoch.

    python examples/distributed_digits.py                               # one process
    python -m ember.distributed.run -n 4 examples/distributed_digits.py # four ranks
    mpiexec -n 2 python examples/distributed_digits.py                  # mpiexec directly

The global batch stays 32 whatever the number of ranks (32 // world_size per rank), so 1, 2
and 4 ranks take the same steps. Needs `pip install "ember[mpi]"`.
"""
import argparse
import time

import ember as torch
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F
from ember.datasets import load_digits
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset

GLOBAL_BATCH = 32


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
        return F.log_softmax(self.fc2(x), dim=1)


def as_tensors(images, labels):
    # uint8 (N, 8, 8) images with values 0..16 -> float32 (N, 1, 8, 8) in [0, 1]
    return torch.from_numpy(images).float().unsqueeze(1) / 16, torch.from_numpy(labels).long()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    epochs = parser.parse_args().epochs
    dist.init_process_group(backend="mpi")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits()
    train_set = TensorDataset(*as_tensors(x_train, y_train))
    sampler = DistributedSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=GLOBAL_BATCH // world_size, sampler=sampler)

    model = DDP(Net())  # starts from rank 0's weights on every rank
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        model.train()
        total = torch.zeros(2, dtype=torch.float64)  # summed loss, sample count
        for data, target in loader:
            optimizer.zero_grad()
            loss = F.nll_loss(model(data), target)
            loss.backward()  # gradients are averaged across ranks here
            optimizer.step()
            total += torch.tensor([loss.item() * len(data), len(data)], dtype=torch.float64)
        dist.all_reduce(total)  # the loss over all ranks' samples
        if rank == 0 and epoch % 5 == 0:
            print(f"epoch {epoch:2d}  train loss {(total[0] / total[1]).item():.4f}")
    elapsed = time.perf_counter() - start

    if rank == 0:
        x_test, y_test = as_tensors(x_test, y_test)
        model.eval()
        with torch.no_grad():
            accuracy = (model.module(x_test).argmax(dim=1) == y_test).float().mean().item()
        samples = epochs * len(sampler) * world_size
        print(f"{world_size} rank(s): {samples / elapsed:.0f} training samples/s")
        print(f"Test accuracy: {accuracy:.4f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
