"""SummaryWriter: torch.utils.tensorboard.SummaryWriter, with tensorboardX's summary protocol
buffers written by ember's FileWriter.

It takes ember tensors, NumPy arrays and Python numbers (nothing here assumes the PyTorch face,
so the Keras TensorBoard callback can share it) and writes event files that TensorBoard reads.
tensorboardX is imported when a writer is made, not with ember.
"""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime

import numpy as np

from ...tensor import Tensor
from . import _summaries
from ._summaries import to_numpy as _numpy
from .embedding import Embeddings
from .file_writer import FileWriter
from .more_summaries import MoreSummaries


def _tensorboardx():
    try:
        import tensorboardX.summary
    except ImportError as err:
        raise ImportError('ember.utils.tensorboard.SummaryWriter needs tensorboardX: '
                          'pip install "ember[tensorboard]"') from err
    return tensorboardX


def default_log_dir(comment: str = "") -> str:
    """runs/<Mon><DD>_<HH>-<MM>-<SS>_<host><comment>, as PyTorch names a run."""
    current_time = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", current_time + "_" + socket.gethostname() + comment)


def _default_bins() -> list:
    """TensorFlow's histogram bucket edges: +-1e-12 growing by 10% up to 1e20, and 0."""
    buckets, v = [], 1e-12
    while v < 1e20:
        buckets.append(v)
        v *= 1.1
    return [-b for b in reversed(buckets)] + [0] + buckets


def _scalar(value) -> float:
    arr = np.asarray(_numpy(value)).squeeze()
    if arr.ndim != 0:
        raise ValueError(f"SummaryWriter: a scalar must have one element, got shape "
                         f"{np.shape(_numpy(value))}")
    return float(arr)


class SummaryWriter(MoreSummaries, Embeddings):
    """Writes scalars, histograms, images, text and hparams (and, from the mixins,
    precision-recall curves, custom charts, boxed images and projector embeddings) to log_dir.

    log_dir defaults to runs/<date>_<host><comment>; purge_step hides the events at or after
    it that a crashed run left; max_queue pending events or flush_secs force a write.
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step=None, max_queue: int = 10,
                 flush_secs: int = 120, filename_suffix: str = ""):
        self._tbx = _tensorboardx()
        if not log_dir:
            log_dir = default_log_dir(comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        # One writer per run directory (add_scalars adds runs); made again after close().
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _default_bins()

    def _get_file_writer(self) -> FileWriter:
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = self._new_writer(self.log_dir)
            self.all_writers = {self.log_dir: self.file_writer}
            if self.purge_step is not None:
                # TensorBoard drops the events of this run at or after the step.
                from tensorboardX.proto.event_pb2 import Event, SessionLog
                step = self.purge_step
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(
                    Event(step=step, session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def _new_writer(self, log_dir: str) -> FileWriter:
        return FileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One value of the curve ``tag`` at global_step (a float, 0-d tensor or array)."""
        value = _scalar(scalar_value)
        if new_style:
            summary = _summaries.tensor_scalar(tag, value, double_precision)
        else:
            summary = self._tbx.summary.scalar(tag, value)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None,
                    walltime=None) -> None:
        """Several curves in one chart: each goes to the run log_dir/<main_tag>_<tag>
        ('/' in main_tag becoming '_')."""
        walltime = time.time() if walltime is None else walltime
        log_dir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            run = log_dir + "/" + main_tag.replace("/", "_") + "_" + tag
            if run not in self.all_writers:
                self.all_writers[run] = self._new_writer(run)
            self.all_writers[run].add_summary(self._tbx.summary.scalar(main_tag, _scalar(value)),
                                              global_step, walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow",
                      walltime=None, max_bins=None) -> None:
        """The distribution of values (bins: 'tensorflow', a NumPy rule such as 'auto', an
        int or edges)."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        summary = self._tbx.summary.histogram(tag, _numpy(values), bins,
                                              max_bins=max_bins)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None,
                  dataformats: str = "CHW") -> None:
        """One image: float in [0, 1] or uint8 in [0, 255], laid out as dataformats
        ('CHW', 'HWC', 'HW'). Needs Pillow, as in PyTorch."""
        summary = self._tbx.summary.image(tag, _numpy(img_tensor),
                                          dataformats=dataformats)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images shown as one grid, laid out as dataformats ('NCHW', 'NHWC')."""
        self.add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True,
                   walltime=None) -> None:
        """A matplotlib figure (or a list of them, as a grid) rendered as an image."""
        from tensorboardX.utils import figure_to_image

        dataformats = "NCHW" if isinstance(figure, list) else "CHW"
        self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        """Markdown text, shown in TensorBoard's Text tab under ``tag``."""
        self._get_file_writer().add_summary(self._tbx.summary.text(tag, text_string),
                                            global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None) -> None:
        """One run of a hyper-parameter search: its hyper-parameters (bool, str, int, float)
        and final metrics, written to the sub-run log_dir/<run_name> (default: the time)."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        hparam_dict = {k: _scalar(v) if isinstance(v, (Tensor, np.ndarray)) else v
                       for k, v in hparam_dict.items()}
        metric_dict = {k: _scalar(v) for k, v in metric_dict.items()}
        domains = _summaries.check_hparams(hparam_dict, hparam_domain_discrete)
        summaries = _summaries.hparams(hparam_dict, metric_dict, domains)
        if not run_name:
            run_name = str(time.time())
        log_dir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=log_dir) as run:
            for summary in summaries:
                run.file_writer.add_summary(summary, global_step)
            for tag, value in metric_dict.items():
                run.add_scalar(tag, value, global_step)

    def add_graph(self, model, input_to_model=None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        raise NotImplementedError(
            "SummaryWriter.add_graph: ember cannot trace a model into a TensorBoard graph "
            "(PyTorch does it with torch.jit.trace); print(model) shows its structure")

    def flush(self) -> None:
        """Writes every pending event of every run to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flushes and closes the event files; a later add_* starts new ones."""
        for writer in (self.all_writers or {}).values():
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
