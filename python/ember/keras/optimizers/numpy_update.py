"""The inner optimizer of the Keras optimizers that PyTorch's kernels cannot express exactly:
Keras' ``update_step`` written in NumPy, in place on the variable's array, with per-variable
slots kept in PyTorch's state layout (so saving and loading work as for the others)."""
from __future__ import annotations

import ember
from ...optim._numpy_update import param_array
from ...optim.optimizer import _increment, _new_state, _new_step


class NumpyUpdate(ember.optim.Optimizer):
    """Subclasses list their slots in ``SLOTS`` (name -> the group key of its initial value, or
    None for zeros) and implement ``update(param, grad, slots, group, step)``; ``step`` counts
    the variable's updates from 1, as Keras' ``iterations + 1``."""

    SLOTS: dict = {}

    def __init__(self, params, **hyper):
        super().__init__(params, hyper)

    def _step_group(self, group, params):
        for p in params:
            state = self.state[p]
            if not state:
                state["step"] = _new_step()
                for name, init in self.SLOTS.items():
                    state[name] = _new_state(p, 0.0 if init is None else group[init])
            step = int(_increment(state["step"]))
            param = param_array(p)
            grad = p.grad._array.astype(param.dtype, copy=False)
            slots = {name: state[name]._array for name in self.SLOTS}
            self.update(param, grad, slots, group, step)

    def update(self, param, grad, slots, group, step):
        raise NotImplementedError
