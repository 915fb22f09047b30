"""keras.callbacks.LambdaCallback: a callback made of plain functions, one per hook. As in
Keras, hooks beyond the six named arguments (on_test_begin, on_predict_batch_end, ...) may be
given as keyword arguments; any other keyword is refused."""
from __future__ import annotations

from .callbacks import Callback

_HOOKS = tuple(name for name in vars(Callback) if name.startswith("on_"))


class LambdaCallback(Callback):
    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        unknown = sorted(k for k in kwargs if k not in _HOOKS)
        if unknown:
            raise TypeError(f"LambdaCallback: unexpected keyword arguments {unknown}; the "
                            f"hooks are {', '.join(_HOOKS)}")
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
