"""The loss fit, train_on_batch and evaluate minimize and report: Keras 3's compute_loss, the
compiled loss plus every loss in ``model.losses`` (add_loss terms, activity and weight
penalties); and the probe call that builds a subclassed model without adding any."""
from __future__ import annotations

import ember
from .layers import call_context


def total_loss(model, loss):
    """``loss`` plus the sum of ``model.losses`` (each summed to a scalar, as Keras does);
    ``loss`` may be None (no compiled loss), and so is the result when nothing adds up."""
    for extra in model.losses:
        extra = extra.sum() if extra.dim() else extra
        loss = extra if loss is None else loss + extra
    return loss


def probe_call(model, input_shape):
    """Runs ``model`` once on zeros of ``input_shape`` (None axes as 1; a list or dict of
    shapes for several inputs) in inference mode,
    without gradients, leaving no losses behind: its layers create their weights."""
    def zeros(shape):
        return ember.zeros(*(1 if d is None else int(d) for d in shape))

    structured = isinstance(input_shape, dict) or (
        isinstance(input_shape, (list, tuple)) and input_shape
        and isinstance(input_shape[0], (list, tuple)))
    if isinstance(input_shape, dict):
        probe = {key: zeros(shape) for key, shape in input_shape.items()}
    else:
        probe = [zeros(shape) for shape in input_shape] if structured else zeros(input_shape)
    was_training = model.training
    model.eval()
    try:
        with ember.no_grad(), call_context.inference():
            model(probe)
    finally:
        model.train(was_training)
        model._clear_losses()
