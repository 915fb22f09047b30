"""Keras layer arguments ember accepts where Keras 3 refuses them (issue 11 item 6); not in CI.

For every layer class both have, each constructor argument in turn gets a bad value (zero,
negative, fractional, huge, NaN, a string, None, a bool, a list); the layer is made and called
on a small batch in ember and in real Keras (torch backend). Counted: calls Keras refuses but
ember accepts ("accepted"), and calls where ember raises an internal exception type ("leaked").

    KERAS_BACKEND=torch PYTHONPATH=python python tools/keras_config_campaign.py [--only NAME]
"""
from __future__ import annotations

import argparse
import collections
import inspect
import math
import os
import warnings

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
BAD = {"zero": 0, "neg": -2, "frac": 0.5, "big_frac": 1.5, "huge": 2**40, "nan": math.nan,
       "str": "abc", "None": None, "True": True, "list": [1, "a"]}
# Baseline arguments by name, so that everything else about the call is valid.
BASE = {"units": 3, "filters": 2, "kernel_size": 2, "pool_size": 2, "rate": 0.5, "size": 2,
        "input_dim": 5, "output_dim": 3, "n": 2, "target_shape": (-1,), "dims": (2, 1, 3),
        "cropping": 1, "padding": 1, "stddev": 0.1, "axis": -1, "groups": 1, "max_value": None,
        "depth_multiplier": 1, "mask_value": 0.0, "factor": 0.1, "height": 2, "width": 2,
        "num_tokens": 4, "max_tokens": 4, "num_bins": 3, "strides": 1, "l1": 0.01, "l2": 0.01,
        "activation": None, "layer": None, "cell": None, "step": None}
ALLOWED = (ValueError, TypeError, IndexError, RuntimeError, NotImplementedError)
SKIP = {"Layer", "InputLayer", "Input", "Lambda", "Bidirectional", "TimeDistributed", "RNN",
        "StackedRNNCells", "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum",
        "Multiply", "Subtract"}


def _input_for(name):
    if "1D" in name or name in ("LSTM", "GRU", "SimpleRNN", "Masking", "Embedding"):
        shape = (2, 6, 3)
    elif "2D" in name or "Image" in name or "Random" in name or name in ("Rescaling",):
        shape = (2, 6, 6, 3)
    else:
        shape = (2, 6, 3)
    if name == "Embedding":
        return np.ones((2, 6), np.int64)
    return np.random.default_rng(0).uniform(0.1, 1, shape).astype(np.float32)


def _outcome(make, x):
    try:
        layer = make()
        layer(x)
    except ALLOWED as e:
        return "refused", e
    except MemoryError as e:  # an absurd size: the bounded-work slice's concern, not a leak
        return "refused", e
    except Exception as e:  # noqa: BLE001 - classifying every exception is the point
        return "leaked", e
    return "accepted", None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import keras
    from ember import keras as ek
    names = sorted(n for n in dir(ek.layers) if n in dir(keras.layers) and n not in SKIP
                   and inspect.isclass(getattr(ek.layers, n)) and args.only in n)
    accepted, leaked = collections.Counter(), collections.Counter()
    examples = {}
    for name in names:
        ours, theirs = getattr(ek.layers, name), getattr(keras.layers, name)
        try:
            params = [p for p in inspect.signature(ours.__init__).parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
            their_params = set(inspect.signature(theirs.__init__).parameters)
        except (TypeError, ValueError):
            continue
        base = {p.name: BASE[p.name] for p in params
                if p.default is inspect.Parameter.empty and p.name in BASE}
        x = _input_for(name)
        if _outcome(lambda: ours(**base), x)[0] != "accepted" or \
                _outcome(lambda: theirs(**base), x)[0] != "accepted":
            continue  # no valid baseline: nothing to compare
        for p in params:
            if p.name not in their_params or p.name in ("name", "dtype", "trainable"):
                continue
            for vname, value in BAD.items():
                kwargs = dict(base, **{p.name: value})
                mine, err = _outcome(lambda: ours(**kwargs), x)
                if mine == "leaked":
                    leaked[(name, p.name)] += 1
                    examples[(name, p.name, "leaked")] = (vname, f"{type(err).__name__}: {err}")
                elif mine == "accepted" and _outcome(lambda: theirs(**kwargs), x)[0] == "refused":
                    accepted[(name, p.name)] += 1
                    examples.setdefault((name, p.name, "accepted"), []).append(vname)
    print(f"{len(names)} layers; {sum(accepted.values())} bad values Keras refuses that ember "
          f"accepts; {sum(leaked.values())} leaked an internal exception")
    for (name, pname), count in accepted.most_common():
        print(f"  accepted {count:3d}  {name}({pname}=...)  {examples[(name, pname, 'accepted')]}")
    for (name, pname), count in leaked.most_common():
        print(f"  leaked   {count:3d}  {name}({pname}=...)  {examples[(name, pname, 'leaked')]}")


if __name__ == "__main__":
    main()
