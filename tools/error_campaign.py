"""A generated campaign of bad calls against ember's public API (issue 11, item 3); not in CI.

Calls the public functions (ember, ember.nn.functional, ember.linalg, ember.nn.init,
ember.nn.utils, ember.nn.utils.rnn, keras.ops), Tensor methods and operators (on a (2, 3, 4, 4)
tensor, a fresh one per call), nn Module constructors and their forward, optimizers and
learning-rate schedulers (three steps), Keras layer constructors and calls, and Keras layer
from_config with one bad argument at a time (wrong types, None, strings, NaN, huge/negative ints, wrong
shapes, empty and non-contiguous tensors), and counts every exception that is not one of
ember's error kinds: ValueError, TypeError, IndexError, RuntimeError, NotImplementedError.
Leaks are AttributeError, KeyError, OverflowError, ZeroDivisionError, RecursionError, NumPy's
AxisError/UFuncTypeError, any message showing pybind11's "incompatible function arguments" or
"_core", and crashes or hangs of the worker process. MemoryError and hangs (absurd sizes) are
reported apart: the bounded-work slice owns them.

    PYTHONPATH=python python tools/error_campaign.py [--only SUBSTRING] [--json out.json]
    tools/sanitize.sh --campaign [--only SUBSTRING]    # the same under ASan + UBSan

Each group of targets runs in a worker process with a memory limit and a timeout, so a crash
or a runaway allocation is recorded instead of stopping the campaign.
"""
from __future__ import annotations

import argparse
import collections
import inspect
import json
import multiprocessing as mp
import os
import queue as queue_module
import resource
import signal
import sys
import time
import traceback
import warnings

MEMORY_LIMIT = 3 << 30  # bytes of address space per worker: absurd sizes fail fast
TARGET_TIMEOUT = 60  # seconds per target of a worker's group
CALL_TIMEOUT = 10  # seconds per call

ALLOWED = (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError)
INTERNAL_TEXT = ("incompatible function arguments", "_core.", "ember._core")
BOUNDS = (MemoryError,)
SKIP_FUNCTIONS = {  # side effects on the process, files or global state; not argument checks
    "set_num_threads", "set_num_interop_threads", "manual_seed", "seed", "set_default_dtype",
    "set_default_device", "set_printoptions", "save", "load", "compile", "set_rng_state",
    "use_deterministic_algorithms", "set_grad_enabled", "set_flush_denormal",
    "set_default_tensor_type",
    "set_float32_matmul_precision", "set_warn_always", "set_anomaly_enabled", "no_grad",
    "enable_grad", "inference_mode", "from_file", "get_file", "Tensor", "Generator",
}


OPERATORS = ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
             "__rtruediv__", "__floordiv__", "__mod__", "__pow__", "__rpow__", "__matmul__",
             "__and__", "__or__", "__xor__", "__lshift__", "__rshift__", "__lt__", "__le__",
             "__gt__", "__ge__", "__eq__", "__ne__", "__getitem__", "__setitem__", "__iadd__",
             "__imul__")


def bad_values(ember):
    """The bad values tried for each argument, by name."""
    t = ember.randn(3, 4)
    return {
        "None": None, "str": "abc", "nan": float("nan"), "inf": float("inf"), "neg": -3,
        "zero": 0, "huge": 2**62, "float": 1.5, "bool": True, "list": [1, "a"], "tuple": (),
        "dict": {"a": 1}, "object": object(), "tensor0d": ember.tensor(2.0),
        "empty": ember.zeros(0, 4), "wrong_shape": ember.randn(7), "int_tensor":
            ember.ones(3, 4, dtype=ember.int64), "noncontig": t.transpose(0, 1),
        "ndarray": __import__("numpy").ones((3, 4)), "tensor5d": ember.randn(1, 1, 1, 1, 1),
    }


def baseline(name, ember):
    """A plausible value for an argument, by its name (the other arguments of a bad call)."""
    n = name.lower()
    if n in ("input", "x", "a", "b", "other", "tensor", "self", "inputs", "data", "target",
             "end", "mat1", "mat2", "vec", "y", "x1", "x2", "input1", "input2", "weight",
             "tensor1", "tensor2", "src", "source", "values", "mask", "query", "key", "value"):
        return ember.randn(2, 3, 4, 4)
    if n in ("tensors", "seq", "inputs_list"):
        return [ember.randn(2, 3), ember.randn(2, 3)]
    if n in ("dim", "dim0", "dim1", "axis", "start_dim"):
        return 1
    if n in ("end_dim", "dim2"):
        return -1
    if n in ("index", "indices"):
        return ember.zeros(2, 3, 4, 4, dtype=ember.int64)
    if n in ("params", "parameters"):
        return [ember.nn.Parameter(ember.randn(3, 4))]
    if n == "optimizer":
        return ember.optim.SGD([ember.nn.Parameter(ember.randn(3, 4))], lr=0.1)
    if n in ("lr_lambda", "fn"):
        return lambda epoch: 0.9
    if n == "milestones":
        return [1, 2]
    if n in ("max_lr", "base_lr", "gamma"):
        return 0.1
    if n in ("sequences", "tensors_list"):
        return [ember.randn(3, 2), ember.randn(2, 2)]
    if n == "lengths":
        return [3, 2]
    if n in ("lr", "learning_rate", "p", "rate", "eps", "momentum", "alpha", "negative_slope"):
        return 0.1
    if "size" in n or n in ("units", "filters", "in_features", "out_features", "num_features",
                            "in_channels", "out_channels", "hidden_size", "num_embeddings",
                            "embedding_dim", "input_dim", "output_dim", "k", "n", "num_classes",
                            "groups", "num_groups", "num_channels", "steps", "repeats", "stride",
                            "normalized_shape", "output_size", "n_components", "chunks"):
        return 3
    if n in ("shape", "sizes", "dims", "perm", "target_shape"):
        return (3, 4)
    return inspect.Parameter.empty


def classify(exc):
    """None for one of ember's error kinds, else the name the leak is counted under."""
    if isinstance(exc, BOUNDS):
        return "bounds:" + type(exc).__name__
    name = type(exc).__module__ + "." + type(exc).__qualname__
    if type(exc).__module__.startswith("numpy"):
        return name
    if any(s in str(exc) for s in INTERNAL_TEXT):
        return "pybind11/_core message (" + type(exc).__name__ + ")"
    if isinstance(exc, ALLOWED):
        return None
    return name


def _targets(ember):
    """(label, kind, callable) for every public callable the campaign drives."""
    import ember.nn.functional as F
    from ember import keras
    out = []
    import ember.nn.init
    import ember.nn.utils
    import ember.nn.utils.rnn
    import ember.optim.lr_scheduler as schedulers
    for label, mod in (("ember", ember), ("F", F), ("linalg", ember.linalg),
                       ("init", ember.nn.init), ("nn.utils", ember.nn.utils),
                       ("nn.utils.rnn", ember.nn.utils.rnn), ("keras.ops", keras.ops)):
        for name in sorted(dir(mod)):
            obj = getattr(mod, name, None)
            if name.startswith("_") or name in SKIP_FUNCTIONS or inspect.isclass(obj) \
                    or inspect.ismodule(obj) or not callable(obj):
                continue
            out.append((f"{label}.{name}", "function", obj))
    for name in sorted(dir(ember.Tensor)):
        obj = getattr(ember.Tensor, name, None)
        # (in-place methods too: each call gets a fresh tensor, so the baseline stays intact)
        if not name.startswith("_") and inspect.isfunction(obj) and name not in SKIP_FUNCTIONS:
            out.append((f"Tensor.{name}", "method", obj))
    for name in OPERATORS:  # the dunder methods behind x + y, x[i], x < y, ...
        out.append((f"Tensor.{name}", "method", getattr(ember.Tensor, name)))
    for name in sorted(dir(schedulers)):
        obj = getattr(schedulers, name)
        if inspect.isclass(obj) and name not in ("LRScheduler", "ChainedScheduler",
                                                 "SequentialLR"):
            out.append((f"lr_scheduler.{name}", "scheduler", obj))
    for name in sorted(dir(ember.nn)):
        obj = getattr(ember.nn, name)
        if inspect.isclass(obj) and issubclass(obj, ember.nn.Module) and not name.startswith("_"):
            out.append((f"nn.{name}", "module", obj))
    for name in sorted(dir(ember.optim)):
        obj = getattr(ember.optim, name)
        if inspect.isclass(obj) and issubclass(obj, ember.optim.Optimizer) and name != "Optimizer":
            out.append((f"optim.{name}", "optimizer", obj))
    for name in sorted(getattr(keras.layers, "__all__", dir(keras.layers))):
        obj = getattr(keras.layers, name, None)
        if inspect.isclass(obj) and issubclass(obj, keras.layers.Layer) and name not in (
                "Layer", "InputLayer", "Lambda", "Input"):
            out.append((f"keras.layers.{name}", "keras_layer", obj))
    return out


def _signature_args(fn, ember):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    args = {}
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name == "self":
            continue
        value = baseline(p.name, ember)
        if value is inspect.Parameter.empty:
            value = p.default
        if value is inspect.Parameter.empty:
            value = 3  # a required argument of unknown kind: a small int
        args[p.name] = (p, value)
    return args


def _call(kind, target, kwargs, ember):
    positional = [v for (p, v) in kwargs.values() if p.kind == p.POSITIONAL_ONLY]
    named = {k: v for k, (p, v) in kwargs.items() if p.kind != p.POSITIONAL_ONLY}
    if kind == "method":
        return target(ember.randn(2, 3, 4, 4), *positional, **named)
    obj = target(*positional, **named)
    if kind == "module" and isinstance(obj, ember.nn.Module):
        obj(ember.randn(2, 3, 4, 4))
    elif kind == "optimizer":
        for group in obj.param_groups:
            for p in group["params"]:
                p.grad = ember.ones(*p.shape) if hasattr(p, "shape") else None
        obj.step(lambda: ember.tensor(1.0)) if "LBFGS" in type(obj).__name__ else obj.step()
    elif kind == "keras_layer":
        obj(ember.randn(2, 6, 6, 3).numpy())
    elif kind == "scheduler":
        for _ in range(3):
            obj.step(1.0) if type(obj).__name__ == "ReduceLROnPlateau" else obj.step()
    return obj


def _from_config_calls(label, layer_cls, ember, record):
    """Keras: a config with one bad value goes through from_config and a call on data."""
    try:
        layer = _call("keras_layer", layer_cls, _signature_args(layer_cls.__init__, ember) or {},
                      ember)
        config = layer.get_config()
    except Exception:  # noqa: BLE001 - no working baseline: nothing to mutate
        return
    for key in sorted(config):
        if key in ("name", "trainable", "dtype"):
            continue
        for vname, value in bad_values(ember).items():
            cfg = dict(config, **{key: value})
            record(f"{label}.from_config[{key}]", vname,
                   lambda: layer_cls.from_config(cfg)(ember.randn(2, 6, 6, 3).numpy()))


class _CallTimeout(BaseException):
    """One call ran past CALL_TIMEOUT (Python code looping; a kernel holding the GIL is caught
    by the worker's timeout instead)."""


def _raise_timeout(signum, frame):
    raise _CallTimeout()


def _under_address_sanitizer():
    return "libasan" in os.environ.get("LD_PRELOAD", "")


def run_targets(labels, queue):
    """Worker: runs the bad calls of the named targets and sends back the leaks."""
    # AddressSanitizer reserves terabytes of address space for its shadow memory, so under it an
    # address-space limit fails every mapping; tools/sanitize.sh --campaign caps each allocation
    # through ASAN_OPTIONS (max_allocation_size_mb, allocator_may_return_null) instead.
    if not _under_address_sanitizer():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    signal.signal(signal.SIGALRM, _raise_timeout)
    warnings.simplefilter("ignore")
    sys.setrecursionlimit(2000)
    import ember
    ember.manual_seed(0)
    by_label = {label: (kind, fn) for label, kind, fn in _targets(ember)}
    counts = collections.Counter()
    examples = {}
    calls = 0

    def record(target, vname, thunk):
        nonlocal calls
        calls += 1
        signal.alarm(CALL_TIMEOUT)
        try:
            thunk()
        except BaseException as exc:  # noqa: BLE001 - classifying every exception is the point
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            kind = f"bounds:hang (over {CALL_TIMEOUT} s)" if isinstance(exc, _CallTimeout) \
                else classify(exc)
            if kind is not None:
                counts[(target, kind)] += 1
                examples.setdefault((target, kind), (vname, str(exc)[:200],
                                                     traceback.format_exc(limit=-3)[-600:]))
        finally:
            signal.alarm(0)

    for label in labels:
        try:
            _run_target(label, *by_label[label], ember, record)
        except Exception as exc:  # noqa: BLE001 - a fault of this script, not of ember
            counts[(label, "campaign error " + type(exc).__name__)] += 1
            examples.setdefault((label, "campaign error " + type(exc).__name__),
                                ("-", str(exc)[:200], traceback.format_exc(limit=-3)[-600:]))
    queue.put((calls, [(k, v, examples[k]) for k, v in counts.items()]))


def _run_target(label, kind, fn, ember, record):
    """The bad calls of one target: each argument replaced by each bad value in turn."""
    target = fn.__init__ if kind in ("module", "optimizer", "keras_layer", "scheduler") else fn
    args = _signature_args(target, ember)
    if args is None:
        return
    for pname in args:
        for vname, value in bad_values(ember).items():
            kwargs = dict(args)
            kwargs[pname] = (args[pname][0], value)
            record(f"{label}({pname})", vname, lambda: _call(kind, fn, kwargs, ember))
    if kind == "keras_layer":
        _from_config_calls(label, fn, ember, record)


def _wait(proc, queue, timeout):
    """The worker's result, or why there is none: 'hang' or 'crash (exit code N)'."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = queue.get(timeout=1)
        except queue_module.Empty:
            if not proc.is_alive():
                return f"crash (exit code {proc.exitcode})"
            continue
        proc.join()
        return result
    proc.kill()
    proc.join()
    return "hang"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="only targets whose label contains this")
    parser.add_argument("--json", help="write the full results here")
    parser.add_argument("--group", type=int, default=20, help="targets per worker process")
    args = parser.parse_args()
    import ember
    labels = [label for label, _, _ in _targets(ember) if args.only in label]
    ctx = mp.get_context("fork")
    total_calls, leaks, failures = 0, collections.Counter(), []
    examples = {}
    for start in range(0, len(labels), args.group):
        chunk = labels[start:start + args.group]
        queue = ctx.Queue()
        proc = ctx.Process(target=run_targets, args=(chunk, queue))
        proc.start()
        result = _wait(proc, queue, TARGET_TIMEOUT * len(chunk))
        if isinstance(result, str):
            failures.append((chunk, result))
            continue
        calls, found = result
        print(f"[{start + len(chunk)}/{len(labels)}] {calls} calls", file=sys.stderr, flush=True)
        total_calls += calls
        for key, count, example in found:
            leaks[tuple(key)] += count
            examples[tuple(key)] = example
    by_kind = collections.Counter()
    for (_, kind), count in leaks.items():
        by_kind[kind] += count
    internal = sum(c for k, c in by_kind.items() if not k.startswith("bounds:"))
    print(f"{total_calls} bad calls over {len(labels)} targets; {internal} leaked an internal "
          f"exception; {sum(by_kind.values()) - internal} ran out of bounds; "
          f"{len(failures)} worker groups hung or crashed")
    for kind, count in by_kind.most_common():
        print(f"  {count:6d}  {kind}")
    print("most frequent (target, kind):")
    for (target, kind), count in leaks.most_common(60):
        vname, message, _ = examples[(target, kind)]
        print(f"  {count:4d}  {target}  {kind}  [{vname}] {message[:110]!r}")
    for chunk, what in failures:
        print(f"  {what}: one of {chunk}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"calls": total_calls, "by_kind": by_kind,
                       "leaks": [{"target": t, "kind": k, "count": c, "value": examples[(t, k)][0],
                                  "message": examples[(t, k)][1], "where": examples[(t, k)][2]}
                                 for (t, k), c in leaks.most_common()],
                       "failures": failures}, f, indent=1)


if __name__ == "__main__":
    main()
