"""PyTorch-style custom autograd Functions: a subclass of ember.autograd.Function whose
``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` are static methods on tensors, as
`torch.autograd.Function` subclasses are written (ember's own ops use the array form instead).

``forward`` runs without recording; each differentiable output gets a graph node whose
backward calls the user's ``backward`` with that output's gradient (zeros, or None after
``ctx.set_materialize_grads(False)``, for the others): by linearity the engine's sum over the
nodes is the gradient of all outputs together.
"""
import numpy as np

from . import autograd


class FunctionCtx:
    """The ``ctx`` of forward/backward: saved tensors, needs_input_grad, any attributes."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.to_save = ()
        self.materialize_grads = True
        self._non_differentiable = set()

    def save_for_backward(self, *tensors):
        self.to_save = tensors

    @property
    def saved_tensors(self):
        return tuple(self.to_save)

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable.update(id(t) for t in tensors)

    def set_materialize_grads(self, value):
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        raise NotImplementedError("ctx.mark_dirty: in-place custom autograd Functions are not "
                                  "supported by ember")


def apply_ctx_function(cls, args, kwargs):
    Tensor = autograd._Tensor
    needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    ctx = FunctionCtx(needs)
    with autograd.no_grad():
        if _overrides(cls, "setup_context"):  # PyTorch 2's forward without ctx
            result = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, result)
        else:
            result = cls.forward(ctx, *args, **kwargs)
    single = not isinstance(result, tuple)
    outputs = (result,) if single else result
    if not (autograd.is_grad_enabled() and any(needs)):
        return result
    differentiable = [isinstance(o, Tensor) and id(o) not in ctx._non_differentiable
                      and o._array.dtype.kind in "fc" for o in outputs]
    wrapped = tuple(Tensor._from_op(o._array, _node(cls, ctx, args, outputs, k))
                    if differentiable[k] else o for k, o in enumerate(outputs))
    return wrapped[0] if single else wrapped


def _overrides(cls, name):
    return any(name in vars(k) for k in cls.__mro__)


class _CtxNode(autograd.Function):
    """The graph node of output `index` of a PyTorch-style Function."""

    def _name(self):
        return self.user_cls.__name__ + "Backward"

    def backward(self, grad_output):
        Tensor = autograd._Tensor
        grads = []
        for k, o in enumerate(self.outputs):
            if k == self.index:
                grads.append(Tensor._from_op(grad_output, None))
            elif isinstance(o, Tensor) and self.ctx.materialize_grads:
                grads.append(Tensor._from_op(np.zeros_like(o._array), None))
            else:
                grads.append(None)
        result = self.user_cls.backward(self.ctx, *grads)
        result = result if isinstance(result, tuple) else (result,)
        n = len(self.inputs)
        if len(result) < n or any(g is not None for g in result[n:]):
            raise RuntimeError(f"function {self.name} returned an incorrect number of gradients "
                               f"(expected {n}, got {len(result)})")
        return tuple(g._array if isinstance(g, Tensor) else g for g in result[:n])


def _node(cls, ctx, args, outputs, index):
    node = _CtxNode()
    node.user_cls, node.ctx, node.outputs, node.index = cls, ctx, outputs, index
    node.inputs = args
    node.input_fns = tuple(getattr(a, "grad_fn", None) for a in args)
    node.needs_input_grad = ctx.needs_input_grad
    node._seq = autograd._next_seq()
    return node
