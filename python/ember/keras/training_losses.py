"""The loss fit, train_on_batch and evaluate minimize and report: Keras 3's compute_loss, the
compiled loss plus every loss in ``model.losses`` (add_loss terms, activity and weight
penalties)."""
from __future__ import annotations


def total_loss(model, loss):
    """``loss`` plus the sum of ``model.losses`` (each summed to a scalar, as Keras does)."""
    for extra in model.losses:
        loss = loss + (extra.sum() if extra.dim() else extra)
    return loss
