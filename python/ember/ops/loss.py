"""Losses, computed by the C++ kernels (reductions encoded as PyTorch's 0 none, 1 mean, 2 sum)."""
import functools

import numpy as np

from .. import _core
from ..autograd import Function

REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


@functools.lru_cache(maxsize=None)
def _camel_case(kind):
    """mse_loss -> MseLoss (cached: every freed node asks for its name)."""
    return "".join(p.title() for p in kind.split("_"))


def reduction_code(op, reduction):
    try:
        return REDUCTIONS[reduction]
    except (KeyError, TypeError):
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction; expected "
                         f"'none', 'mean' or 'sum'") from None


class PointwiseLoss(Function):
    """mse, l1, huber, smooth_l1, binary_cross_entropy(_with_logits): (input, target, weight,
    pos_weight); weight and pos_weight are already broadcast to the input's shape."""

    new_grads = True

    def forward(self, x, t, weight=None, pos_weight=None, kind="mse_loss", param=0.0, reduction=1):
        self.x, self.t, self.w, self.pw = x, t, weight, pos_weight
        self.kind, self.param, self.reduction = kind, param, reduction
        return _core.pointwise_loss_forward(kind, x, t, weight, pos_weight, param, reduction)

    def backward(self, g):
        need = self.needs_input_grad
        gx = _core.pointwise_loss_backward(self.kind, g, self.x, self.t, self.w, self.pw,
                                           self.param, self.reduction)
        gt = self._target_grad(g, gx) if need[1] else None
        return (gx if need[0] else None, gt, None, None)

    def _target_grad(self, g, gx):
        if self.kind in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"):
            return -gx  # these losses depend on input - target only
        x, t = self.x, self.t
        w = 1 if self.w is None else self.w
        scale = g if self.reduction == 0 else g / (x.size if self.reduction == 1 else 1)
        if self.kind == "binary_cross_entropy":
            with np.errstate(divide="ignore"):
                dl_dt = -(np.maximum(np.log(x), -100) - np.maximum(np.log1p(-x), -100))
        else:  # with logits: loss = (1 - t) x + (1 + (pw - 1) t) softplus(-x)
            pw = 1 if self.pw is None else self.pw
            softplus_neg = np.logaddexp(0, -x)
            dl_dt = -x + (pw - 1) * softplus_neg
        return (scale * w * dl_dt).astype(x.dtype, copy=False)

    def _name(self):
        return _camel_case(self.kind) + "Backward"


class CrossEntropy(Function):
    """Cross-entropy of logits (N, C) against class indices, fused with log-softmax."""

    new_grads = True

    def forward(self, x, target, weight=None, ignore_index=-100, label_smoothing=0.0, reduction=1):
        loss, self.log_probs, self.total_weight = _core.cross_entropy_forward(
            x, target, weight, ignore_index, label_smoothing, reduction)
        self.target, self.weight = target, weight
        self.args = (ignore_index, label_smoothing, reduction)
        return loss

    def backward(self, g):
        ignore_index, smoothing, reduction = self.args
        gx = _core.cross_entropy_backward(g, self.log_probs, self.target, self.weight,
                                          ignore_index, smoothing, reduction, self.total_weight)
        return gx, None, None


class CrossEntropyProbs(Function):
    """Cross-entropy of logits (N, C) against class probabilities (N, C)."""

    new_grads = True

    def forward(self, x, target, weight=None, label_smoothing=0.0, reduction=1):
        loss, self.log_probs = _core.cross_entropy_probs_forward(x, target, weight,
                                                                 label_smoothing, reduction)
        self.target, self.weight = target, weight
        self.smoothing, self.reduction = label_smoothing, reduction
        return loss

    def backward(self, g):
        need = self.needs_input_grad
        gx = gt = None
        if need[0]:
            gx = _core.cross_entropy_probs_backward(g, self.log_probs, self.target, self.weight,
                                                    self.smoothing, self.reduction)
        if need[1]:
            n, c = self.log_probs.shape
            w = 1 if self.weight is None else self.weight
            scale = g[:, None] if self.reduction == 0 else g / (n if self.reduction == 1 else 1)
            gt = (-(1 - self.smoothing) * scale * w * self.log_probs).astype(self.log_probs.dtype)
        return gx, gt, None


class NLLLoss(Function):
    new_grads = True

    def forward(self, x, target, weight=None, ignore_index=-100, reduction=1):
        loss, self.total_weight = _core.nll_loss_forward(x, target, weight, ignore_index, reduction)
        self.x, self.target, self.weight = x, target, weight
        self.ignore_index, self.reduction = ignore_index, reduction
        return loss

    def backward(self, g):
        gx = _core.nll_loss_backward(g, self.x, self.target, self.weight, self.ignore_index,
                                     self.reduction, self.total_weight)
        return gx, None, None
