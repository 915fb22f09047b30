"""The measuring side of the suite, run in a fresh subprocess per job (`python -m bench
--worker JOB`, JOB a JSON object) after the driver has set the thread environment: one or
several models of one implementation, one library's kernels, or what instruction set each
library runs with. It prints one JSON line of results."""

import resource

from bench import isa, kernels
from bench.models import MODELS
from bench.timing import measure


def measure_model(implementation, model_key, threads, window, repeats):
    """Training, batch inference and batch-1 latency of one implementation of one model, and
    the peak RSS of this process (import, model, data, training) once training has run."""
    model = MODELS[model_key]
    steps = model.implementations[implementation](threads)
    train, train_cpu = measure(steps.train, window, repeats)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    steps.eval_mode()
    infer, infer_cpu = measure(steps.infer, window, repeats)
    one, one_cpu = measure(steps.infer_one, window, repeats)
    return {
        "train": train, "train_cpu": train_cpu,  # steps per second / per CPU-second
        "infer": infer * model.batch, "infer_cpu": infer_cpu * model.batch,  # samples
        "latency": 1.0 / one, "latency_cpu": 1.0 / one_cpu,  # seconds per batch-1 forward
        "peak_rss_mb": peak_rss_mb, "version": steps.version, **steps.info,
    }


def run(job):
    if job["kind"] == "models":
        results = {key: measure_model(job["implementation"], key, job["threads"],
                                      job["window"], job["repeats"]) for key in job["models"]}
        if len(results) > 1:  # the peak RSS of one model needs a process of its own
            for result in results.values():
                del result["peak_rss_mb"]
        return {"models": results}
    if job["kind"] == "kernels":
        return kernels.measure_kernels(job["library"], job["threads"], job["window"],
                                       job["repeats"])
    if job["kind"] == "isa":
        return isa.probe()
    raise ValueError(f"unknown worker job {job!r}")
