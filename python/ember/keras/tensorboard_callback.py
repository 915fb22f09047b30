"""keras.callbacks.TensorBoard: event files that TensorBoard reads, laid out and tagged as
Keras 3 writes them, through ember's SummaryWriter (tensorboardX; the extra
``pip install "ember[tensorboard]"``).

``log_dir/train`` gets "epoch_<name>" scalars (with "epoch_learning_rate"), "batch_<name>" ones
every ``update_freq`` batches, weight histograms "<layer>/<weight>/histogram" (and images with
write_images) every ``histogram_freq`` epochs, and with write_graph the model's JSON config as
Keras' "keras" model summary; ``log_dir/validation`` gets the "epoch_<name>" scalars of the
val_ logs and "evaluation_<name>_vs_iterations" after each evaluation. Keras writes the op
graph of a TensorFlow train function only, so no op graph is written here either. Profiling and
the embeddings projector are not available."""
from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np

from .callbacks import Callback


def _positive_or_zero(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"TensorBoard: {name} must be a non-negative integer. Received: "
                         f"{name}={value!r}")


class TensorBoard(Callback):
    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        _positive_or_zero("histogram_freq", histogram_freq)
        if profile_batch not in (0, "0", (0, 0), [0, 0]):
            raise NotImplementedError("TensorBoard: profiling is not available in ember; "
                                      f"profile_batch must be 0. Received: "
                                      f"profile_batch={profile_batch!r}")
        if embeddings_freq or embeddings_metadata is not None:
            raise NotImplementedError("TensorBoard: the embeddings projector (embeddings_freq,"
                                      " embeddings_metadata) is not supported by ember; use "
                                      "ember.utils.tensorboard.SummaryWriter.add_embedding")
        update_freq = 1 if update_freq == "batch" else update_freq
        if update_freq != "epoch":
            if isinstance(update_freq, bool) or not isinstance(update_freq, int) \
                    or update_freq < 1:
                raise ValueError("TensorBoard: update_freq must be 'epoch', 'batch' or a "
                                 f"positive integer. Received: update_freq={update_freq!r}")
        self.log_dir = str(os.fspath(log_dir))
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}  # made on first use, as Keras does: no empty event files
        self._global_train_batch = 0
        self._global_test_batch = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_iterations = 0

    # ---- writers -----------------------------------------------------------------------------
    def _writer(self, kind):
        if kind not in self._writers:
            from ..utils.tensorboard import SummaryWriter

            folder = "train" if kind == "train" else "validation"
            self._writers[kind] = SummaryWriter(os.path.join(self.log_dir, folder))
        return self._writers[kind]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def set_model(self, model):
        super().set_model(model)
        self._close_writers()
        if self.write_graph:
            self._write_model_summary()

    def _write_model_summary(self):
        """Keras' keras_model_summary: the model's JSON under the tag "keras" at step 0, marked
        for TensorBoard's "graph_keras_model" plugin (Sequential and functional models)."""
        if type(self.model).__name__ not in ("Sequential", "Functional"):
            return
        try:
            text = json.dumps({"class_name": type(self.model).__name__,
                               "config": self.model.get_config()})
        except (TypeError, ValueError, NotImplementedError) as exc:
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {exc}", stacklevel=2)
            return
        writer = self._writer("train")  # (raises the ImportError naming the extra first)
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto

        metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
            plugin_name="graph_keras_model", content=b"1"))
        tensor = TensorProto(dtype="DT_STRING", string_val=[text.encode()])
        summary = Summary(value=[Summary.Value(tag="keras", metadata=metadata, tensor=tensor)])
        writer._get_file_writer().add_summary(summary, 0)

    # ---- hooks -------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        if self.write_steps_per_second:
            self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or self._global_train_batch % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = time.time() - self._batch_start_time
            writer.add_scalar("batch_steps_per_second", 1.0 / max(elapsed, 1e-12),
                              self._global_train_batch)
        for name, value in (logs or {}).items():
            writer.add_scalar(f"batch_{name}", value, self._global_train_batch)

    def on_test_batch_begin(self, batch, logs=None):
        self._global_test_batch += 1

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not logs:
            return
        writer = self._writer("val")
        for name, value in logs.items():
            writer.add_scalar(f"evaluation_{name}_vs_iterations", value, optimizer.iterations)
        writer.flush()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_time = time.time()
            self._epoch_start_iterations = self.model.optimizer.iterations

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    # ---- epoch summaries ---------------------------------------------------------------------
    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train_logs = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val_logs = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "learning_rate"):
            train_logs["learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            steps = self.model.optimizer.iterations - self._epoch_start_iterations
            train_logs["steps_per_second"] = steps / max(time.time() - self._epoch_start_time,
                                                         1e-12)
        for kind, values in (("train", train_logs), ("val", val_logs)):
            if values:
                writer = self._writer(kind)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", _mean_if_array(value), epoch)
                writer.flush()

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            # get_weights gives the same weights in the same order, in Keras' layout
            for weight, values in zip(layer.weights, layer.get_weights()):
                name = weight.path.replace(":", "_")
                writer.add_histogram(f"{name}/histogram", values, epoch)
                if self.write_images:
                    image = _weight_image(values)
                    if image is not None:
                        writer.add_images(f"{name}/image", image, epoch, dataformats="NHWC")
        writer.flush()


def _mean_if_array(value):
    # tf.summary.scalar refuses arrays; a per-class metric is shown by its mean, as ember's
    # progress bar does.
    return float(np.mean(value)) if np.ndim(value) else value


def _weight_image(w):
    """Keras' picture of a weight (NHWC): a vector as a 1-pixel-wide column, a matrix as one
    image (wider than tall), a 3-D kernel as one image per output channel; a 4-D kernel as it is
    when its last axis has 1, 3 or 4 channels; None otherwise."""
    w = np.squeeze(w)
    if w.ndim == 1:
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:
        w = np.transpose(w, (2, 0, 1)).reshape(w.shape[2], w.shape[0], w.shape[1], 1)
    if w.ndim == 4 and w.shape[-1] in (1, 3, 4):
        return w
    return None
