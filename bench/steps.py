"""What the suite measures of a model: its description and the three callables it times.

A model module (bench/models/) describes each model as a `Model` whose `implementations` map
an implementation name to a builder `fn(threads) -> Steps`. The builder runs inside a worker
subprocess after the thread environment is set, so it imports ember or torch itself; model
modules import only NumPy (and the NumPy models) at the top.
"""

import dataclasses
import importlib
from typing import Callable

import numpy as np

# Implementation names, in table order. "ember" is the PyTorch face (`import ember as torch`);
# "ember_keras" the Keras face (`from ember import keras`), for the models written in Keras.
IMPLEMENTATIONS = ("ember_keras", "ember", "numpy", "torch")
EMBER_FACES = {"ember_keras": "Keras face", "ember": "torch face"}


@dataclasses.dataclass(frozen=True)
class Targets:
    """Issue 7's targets for ember / PyTorch at the same thread count (None: no target)."""
    train: float = None    # training speed ratio, at least
    infer: float = None    # batch inference speed ratio, at least
    latency: float = None  # batch-1 latency ratio (ember's time / torch's), at most


@dataclasses.dataclass(frozen=True)
class Model:
    key: str               # command-line name
    label: str             # table row
    short: str             # chart label
    batch: int
    targets: Targets
    implementations: dict  # implementation name -> fn(threads) -> Steps
    # Multiply-add FLOP of one training step ("train") and of one batch forward ("infer") where
    # matrix products are nearly all of a model's work: the report then says how fast the GEMM
    # ceiling lets any implementation go.
    flop: dict = None


@dataclasses.dataclass
class Steps:
    train: Callable       # one training step on the batch
    infer: Callable       # one forward of the batch: eval mode, no gradient
    infer_one: Callable   # the same for one sample
    version: str          # what ran, for the report
    eval_mode: Callable = lambda: None  # called once between training and inference
    info: dict = dataclasses.field(default_factory=dict)  # extra facts for the report


def framework(name, threads):
    """ember or torch, imported in the worker, at `threads` threads, seeded."""
    lib = importlib.import_module(name)
    lib.set_num_threads(threads)
    lib.manual_seed(0)
    return lib


def ember_config(ember):
    """ember.show_config(mode="dicts") where this build has it; {} before it lands."""
    show_config = getattr(ember, "show_config", None)
    return dict(show_config(mode="dicts")) if show_config is not None else {}


def version_of(lib):
    """(version string, info dict) of ember, torch or numpy."""
    name = lib.__name__
    if name == "torch":
        capability = lib.backends.cpu.get_cpu_capability()
        return f"torch {lib.__version__} ({capability})", {"torch_capability": capability}
    if name == "ember":
        config = ember_config(lib)
        isa = config.get("isa", "unknown")
        details = [config[key] if key != "isa_built" else "built: " + ", ".join(config[key])
                   for key in ("isa_description", "isa_built", "compile_flags") if key in config]
        return f"ember {lib.__version__} ({isa})", {"ember_isa": isa,
                                                    "ember_isa_details": "; ".join(details)}
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return f"numpy {np.__version__} ({blas.get('name', 'BLAS unknown')})", {}


def framework_steps(lib, net, loss_fn, optimizer, x, y):
    """Steps of PyTorch-face code: the same lines run by ember and by torch. `x`, `y` are the
    NumPy batch; batch-1 inference uses its first sample."""
    inputs, target = lib.from_numpy(x), lib.from_numpy(y)
    one_input = lib.from_numpy(np.ascontiguousarray(x[:1]))

    def train():
        optimizer.zero_grad()
        loss = loss_fn(net(inputs), target)
        loss.backward()
        optimizer.step()
        return loss

    def forward(batch):
        def run():
            with lib.no_grad():
                return net(batch)
        return run

    version, info = version_of(lib)
    return Steps(train, forward(inputs), forward(one_input), version, net.eval, info)


def framework_implementations(make_steps):
    """{"ember": ..., "torch": ...} builders for `make_steps(lib) -> Steps`."""
    return {name: (lambda threads, name=name: make_steps(framework(name, threads)))
            for name in ("ember", "torch")}


def keras_steps(ember, model, x, y):
    """Steps of a compiled model of ember's Keras face, run as a Keras user runs it:
    `train_on_batch`, and `predict_on_batch` for the batch and for its first sample."""
    one_input = np.ascontiguousarray(x[:1])
    version, info = version_of(ember)
    return Steps(lambda: model.train_on_batch(x, y), lambda: model.predict_on_batch(x),
                 lambda: model.predict_on_batch(one_input), version, info=info)


def numpy_steps(net, x, y):
    """Steps of a hand-written NumPy model with `train_step(x, y)` and `predict(x)`."""
    one_input = np.ascontiguousarray(x[:1])
    version, info = version_of(np)
    return Steps(lambda: net.train_step(x, y), lambda: net.predict(x),
                 lambda: net.predict(one_input), version, info=info)
