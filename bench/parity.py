"""A NumPy model against the PyTorch one on the same weights and data, for the check scripts
(check_numpy_models.py, check_numpy_rnn_models.py)."""

import numpy as np
import torch

STEPS, LOSS_TOLERANCE, GRAD_TOLERANCE, WEIGHT_TOLERANCE = 5, 1e-5, 1e-4, 1e-5


def compare(name, numpy_model, torch_model, optimizer, loss_fn, x, y, x_torch=None,
            to_torch=None):
    """Copies the NumPy model's weights into `torch_model`, runs STEPS training steps of both
    on (x, y) and prints the largest loss difference, the largest gradient difference of the
    first step (relative to the largest gradient of that parameter: Adam's steps do not
    change with the scale of a gradient, so the weights alone would not show a wrongly scaled
    one) and the largest weight difference afterwards. `to_torch` maps the NumPy parameters
    (or gradients) to PyTorch's layouts; by default a reshape. Returns whether all agree to
    float32 rounding."""
    params = list(torch_model.parameters())
    if to_torch is None:
        def to_torch(arrays):
            return [a.reshape(p.shape) for a, p in zip(arrays, params)]
    with torch.no_grad():
        for param, value in zip(params, to_torch(numpy_model.params)):
            param.copy_(torch.from_numpy(np.ascontiguousarray(value)))
    numpy_step, first_grads = numpy_model.optimizer.step, []

    def recording_step(grads):
        if not first_grads:
            first_grads.extend(np.array(g, np.float32) for g in grads)
        numpy_step(grads)

    numpy_model.optimizer.step = recording_step
    x_torch = torch.from_numpy(x) if x_torch is None else x_torch
    target = torch.from_numpy(y)
    loss_diffs, grad_diff = [], None
    for _ in range(STEPS):
        numpy_loss = numpy_model.train_step(x, y)
        optimizer.zero_grad()
        loss = loss_fn(torch_model(x_torch), target)
        loss.backward()
        if grad_diff is None:
            grad_diff = max(float(np.abs(a - p.grad.numpy()).max() / np.abs(a).max())
                            for a, p in zip(to_torch(first_grads), params))
        optimizer.step()
        loss_diffs.append(abs(numpy_loss - loss.item()))
    weight_diff = max(float(np.abs(a - p.detach().numpy()).max())
                      for a, p in zip(to_torch(numpy_model.params), params))
    ok = (max(loss_diffs) < LOSS_TOLERANCE and grad_diff < GRAD_TOLERANCE
          and weight_diff < WEIGHT_TOLERANCE)
    print(f"{name}: {STEPS} steps, last loss {loss.item():.6f}, max |loss diff| "
          f"{max(loss_diffs):.2e}, max relative |grad diff| {grad_diff:.2e}, max |weight diff| "
          f"{weight_diff:.2e} -> {'OK' if ok else 'MISMATCH'}")
    return ok
