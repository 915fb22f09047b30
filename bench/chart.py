"""results.png: ember / PyTorch per model, next to issue 7's targets (needs matplotlib)."""

from bench import report

PANELS = (("train", "Training speed"), ("infer", "Inference speed"),
          ("latency", "Batch-1 speed (torch latency / ember latency)"))


def write_chart(run, path):
    """Bars of ember / torch speed per model row and thread count (1 thread per CPU-second,
    more threads by the wall clock), a tick at each target. False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(report.rows(run.models))
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(12, 11), sharex=True)
    width = 0.8 / len(run.threads)
    for axis, (metric, title) in zip(axes, PANELS):
        for offset, threads in enumerate(run.threads):
            heights = []
            for model, face, _ in rows:
                measured = report.judged_ratio(run, model, face, metric, threads)
                if metric == "latency" and measured:
                    measured = 1 / measured  # as a speed: higher is better in every panel
                heights.append(measured or 0)
            basis = "per CPU-s" if threads == 1 else "wall"
            axis.bar([r + offset * width for r in range(len(rows))], heights, width,
                     label=f"{threads} thread{'s' if threads > 1 else ''} ({basis})")
        for index, (model, _, _) in enumerate(rows):
            target = report.target_of(model, metric)
            if target:
                target = 1 / target if metric == "latency" else target
                axis.hlines(target, index - width / 2, index + 0.8 - width / 2,
                            colors="black", linestyles="dashed",
                            label="target")
        axis.axhline(1.0, color="grey", linewidth=0.8)
        axis.set_yscale("log")
        axis.set_ylabel("ember / torch")
        axis.set_title(title + " — ember / PyTorch, higher is better")
        handles, labels = axis.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        axis.legend(unique.values(), unique.keys(), fontsize=8)
    axes[-1].set_xticks([r + 0.4 - width / 2 for r in range(len(rows))],
                        [label.replace(", ", "\n", 1) for _, _, label in rows], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True
