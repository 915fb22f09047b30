"""results.json: one run's every raw figure and setting, from which `python -m bench
--report-from results.json` redraws RESULTS.md and results.png without measuring again."""

import dataclasses
import json

from bench.models import MODELS
from bench.report import Run


def _flat(table):
    return {"/".join(map(str, key)): value for key, value in table.items()}


def _unflat(table):
    """{"torch/mlp/2": ...} -> {("torch", "mlp", 2): ...}: thread counts back to ints."""
    keys = (key.split("/") for key in table)
    return {(*parts[:-1], int(parts[-1])): value for parts, value in zip(keys, table.values())}


def save(run, path):
    fields = dataclasses.asdict(run) | {"models": [model.key for model in run.models],
                                        "results": _flat(run.results),
                                        "kernels": _flat(run.kernels)}
    path.write_text(json.dumps(fields, indent=1, ensure_ascii=False) + "\n")


def load(path):
    fields = json.loads(path.read_text())
    fields |= {"models": [MODELS[key] for key in fields["models"]],
               "results": _unflat(fields["results"]), "kernels": _unflat(fields["kernels"]),
               "load": tuple(fields["load"])}
    return Run(**fields)
