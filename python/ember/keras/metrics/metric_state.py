"""State of user-written metrics (Keras 3's ``Metric.add_variable``), and the initial state of
ember's own metrics, which keep plain Python/NumPy state set by their ``reset_state``."""
from __future__ import annotations

import numpy as np

import ember
from .. import initializers
from ..layers.variable import KerasVariable, check_variable_args

_OWN_PACKAGE = __name__.rsplit(".", 1)[0]


def initial_state(metric):
    """Runs the ``reset_state`` of the nearest ember-defined class: it creates the state of
    ember's metrics. A user's override is not called here (as in Keras, whose ``__init__``
    resets nothing): its variables do not exist until its ``__init__`` makes them."""
    for cls in type(metric).__mro__:
        if "reset_state" in vars(cls) and cls.__module__.startswith(_OWN_PACKAGE):
            vars(cls)["reset_state"](metric)
            return


def metric_variable(metric, shape, initializer, dtype, aggregation, name):
    owner = f"{type(metric).__name__}.add_variable"
    check_variable_args(owner, "metric variables", dtype, aggregation)
    shape = () if shape is None else tuple(shape)
    values = initializers.get(initializer)(shape)
    values = values.numpy() if isinstance(values, ember.Tensor) else np.asarray(values)
    variable = KerasVariable(ember.from_numpy(np.array(values, dtype=np.float32, order="C")),
                             requires_grad=False)
    variable.name = name or "variable"
    variable.path = f"{metric.name}/{variable.name}"
    metric._variables.append(variable)
    return variable
