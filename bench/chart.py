"""results.png: ember / PyTorch per model, next to issue 7's targets (needs matplotlib)."""

import textwrap

from bench import report

PANELS = (("train", "Training speed"), ("infer", "Inference speed (batch)"),
          ("latency", "Batch-1 speed (PyTorch's latency / ember's)"))


def write_chart(run, path):
    """Bars of ember / torch speed per model row and thread count (1 thread per CPU-second,
    more threads by the wall clock), a dashed line at each target. False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    rows = list(report.rows(run.models, short=True))
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(12, 11), sharex=True)
    width = 0.8 / len(run.threads)
    for axis, (metric, title) in zip(axes, PANELS):
        for offset, threads in enumerate(run.threads):
            positions, heights = [], []
            for index, (model, face, _) in enumerate(rows):
                measured = report.judged_ratio(run, model, face, metric, threads)
                if measured:
                    positions.append(index + offset * width)
                    # as a speed: higher is better in every panel
                    heights.append(1 / measured if metric == "latency" else measured)
            basis = "per CPU-second" if threads == 1 else "wall clock"
            bars = axis.bar(positions, heights, width, bottom=0,
                            label=f"{threads} thread{'s' if threads > 1 else ''} ({basis})")
            axis.bar_label(bars, fmt="%.2f", fontsize=7)
        for index, (model, _, _) in enumerate(rows):
            target = report.target_of(model, metric)
            if target:
                axis.hlines(1 / target if metric == "latency" else target, index - width / 2,
                            index + 0.8 - width / 2, colors="black", linestyles="dashed",
                            label="target")
        axis.axhline(1.0, color="grey", linewidth=0.8)
        axis.set_yscale("log")
        axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.set_ylabel("ember / PyTorch")
        axis.set_title(f"{title}: ember / PyTorch, higher is better")
        handles, labels = axis.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        axis.legend(unique.values(), unique.keys(), fontsize=8, loc="upper left",
                    bbox_to_anchor=(1.0, 1.0))
    axes[-1].set_xticks([r + 0.4 - width / 2 for r in range(len(rows))],
                        [_tick_label(label) for _, _, label in rows], fontsize=8)
    restricted = f", every library restricted to {run.isa.upper()}" if run.isa != "native" else ""
    fig.suptitle(f"ember / PyTorch 2.13 CPU{restricted}, {run.date}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def _tick_label(label):
    """A row label on lines narrow enough not to run into the next bar group's."""
    return "\n".join(textwrap.fill(part, 11, break_on_hyphens=False)
                     for part in label.split(" — "))
