"""PyTorch's Tensor.register_post_accumulate_grad_hook: ``hook(param)`` runs once per backward,
after every gradient that backward sends to the leaf ``param`` has been added into
``param.grad`` (DistributedDataParallel uses it to start a bucket's all_reduce while the rest
of backward runs). The engine asks ``last_uses(order)`` which node is the last to feed each
hooked leaf, and calls ``fire`` after that node; with no hook registered it asks nothing."""
from __future__ import annotations

import weakref

# id(leaf) -> (weak reference to the leaf, {handle id: hook}); an entry goes with its leaf
_hooks = {}


def register(tensor, hook):
    """Tensor.register_post_accumulate_grad_hook: returns a handle whose remove() drops hook."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got "
                        f"{type(hook).__name__}")
    from .nn.module import RemovableHandle  # ember.nn loads on first use, not with ember
    key = id(tensor)
    entry = _hooks.get(key)
    if entry is None or entry[0]() is not tensor:
        entry = (weakref.ref(tensor, lambda ref, key=key: _forget(ref, key)), {})
        _hooks[key] = entry
    handle = RemovableHandle(entry[1])
    entry[1][handle.id] = hook
    return handle


def _forget(ref, key):
    entry = _hooks.get(key)
    if entry is not None and entry[0] is ref:  # not a newer tensor that reuses the id
        del _hooks[key]


def active() -> bool:
    return bool(_hooks)


def last_uses(order):
    """{node: [leaves]}: each hooked leaf under the last node of ``order`` (the backward's
    execution order) that sends it a gradient, or None when no leaf in the graph is hooked."""
    last = {}
    hooks = _hooks
    for node in order:
        for t, fn, need in zip(node.inputs, node.input_fns, node.needs_input_grad):
            if need and fn is None and id(t) in hooks:
                last[id(t)] = (node, t)
    if not last:
        return None
    plan = {}
    for node, t in last.values():
        plan.setdefault(node, []).append(t)
    return plan


def fire(leaves, received):
    """Runs the hooks of the ``leaves`` whose id is in ``received`` (those this backward gave a
    gradient, as PyTorch runs them only when the gradient is accumulated)."""
    for t in leaves:
        entry = _hooks.get(id(t))
        if id(t) in received and entry is not None and entry[0]() is t:
            for hook in list(entry[1].values()):
                _check_result(hook(t))


def _check_result(result):
    """PyTorch's hooks act on the tensor and return None; a value returned is refused."""
    if result is None:
        return
    if hasattr(result, "_array"):  # a tensor, as PyTorch words it
        raise RuntimeError("Tensor post accumulate grad hooks should return None.")
    raise TypeError(f"post accumulate grad hooks should return None, but hook returned "
                    f"'{type(result).__name__}'")
