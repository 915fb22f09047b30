"""Learn XOR with a 2-3-1 network, written exactly as in PyTorch: only the import differs."""

import ember as torch
import ember.nn as nn

torch.manual_seed(0)

x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = torch.tensor([[0.0], [1.0], [1.0], [0.0]])

model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Sigmoid())
loss_fn = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

for epoch in range(1, 1001):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    if epoch % 100 == 0:
        print(f"epoch {epoch:4d}  loss {loss.item():.6f}")

with torch.no_grad():
    predictions = model(x)
for inputs, output in zip(x.tolist(), predictions.flatten().tolist()):
    print(f"{inputs} -> {output:.4f}")
print("Predictions:", [round(p) for p in predictions.flatten().tolist()])
