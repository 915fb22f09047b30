"""The less common SummaryWriter methods (precision-recall curves, raw histograms, custom
scalar charts, boxed images, audio), and the ones ember refuses by name.

A mixin of SummaryWriter: it relies on ``self._tbx`` and ``self._get_file_writer()``.
"""
from __future__ import annotations

import numpy as np

from ._summaries import audio
from ._summaries import to_numpy as _numpy


def _refuse(method: str, why: str):
    def refused(self, *args, **kwargs):
        raise NotImplementedError(f"SummaryWriter.{method} is not supported by ember: {why}")
    refused.__name__ = method
    return refused


class MoreSummaries:
    def _write(self, summary, global_step=None, walltime=None) -> None:
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_pr_curve(self, tag: str, labels, predictions, global_step=None,
                     num_thresholds: int = 127, weights=None, walltime=None) -> None:
        """A precision-recall curve of predictions (probabilities) against 0/1 labels."""
        summary = self._tbx.summary.pr_curve(tag, _numpy(labels), _numpy(predictions),
                                             num_thresholds, _numpy(weights))
        self._write(summary, global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds: int = 127, weights=None,
                         walltime=None) -> None:
        """A precision-recall curve from counts computed elsewhere."""
        counts = [_numpy(v) for v in (true_positive_counts, false_positive_counts,
                                      true_negative_counts, false_negative_counts, precision,
                                      recall)]
        self._write(self._tbx.summary.pr_curve_raw(tag, *counts, num_thresholds, weights),
                    global_step, walltime)

    def add_histogram_raw(self, tag: str, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None) -> None:
        """A histogram from statistics and bucket counts computed elsewhere."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        summary = self._tbx.summary.histogram_raw(tag, min, max, num, sum, sum_squares,
                                                  bucket_limits, bucket_counts)
        self._write(summary, global_step, walltime)

    def add_custom_scalars(self, layout: dict) -> None:
        """Charts gathering scalar tags: {category: {chart: ['Multiline' or 'Margin', tags]}}."""
        self._write(self._tbx.summary.custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags, category: str = "default",
                                          title: str = "untitled") -> None:
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category: str = "default",
                                       title: str = "untitled") -> None:
        """A chart of one value and its lower and upper bound: exactly three tags."""
        if len(tags) != 3:
            raise ValueError(f"add_custom_scalars_marginchart: expected 3 tags, got {len(tags)}.")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_image_with_boxes(self, tag: str, img_tensor, box_tensor, global_step=None,
                             walltime=None, rescale=1, dataformats: str = "CHW",
                             labels=None) -> None:
        """An image with boxes (N, 4: xmin, ymin, xmax, ymax) drawn on it, optionally labelled."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != np.shape(_numpy(box_tensor))[0]:
                labels = None
        summary = self._tbx.summary.image_boxes(tag, _numpy(img_tensor), _numpy(box_tensor),
                                                rescale=rescale, dataformats=dataformats,
                                                labels=labels)
        self._write(summary, global_step, walltime)

    def add_audio(self, tag: str, snd_tensor, global_step=None, sample_rate: int = 44100,
                  walltime=None) -> None:
        """A mono sound clip: samples in [-1, 1] (clipped beyond), shape (L,) or (1, L)."""
        self._write(audio(tag, _numpy(snd_tensor), sample_rate), global_step, walltime)

    add_tensor = _refuse("add_tensor", "log the values with add_scalar or add_histogram")
    add_video = _refuse("add_video", "it would need moviepy, which ember does not depend on")
    add_onnx_graph = _refuse("add_onnx_graph", "ember does not read ONNX graphs")
    # tensorboardX names mesh tensors unlike TensorBoard's mesh plugin ("mesh_1", not
    # "mesh_VERTEX"), so they would not be what PyTorch writes.
    add_mesh = _refuse("add_mesh", "ember does not write TensorBoard's mesh plugin format")
