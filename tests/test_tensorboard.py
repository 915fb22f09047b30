"""ember.utils.tensorboard.SummaryWriter: the event files it writes, read back with
TensorBoard's EventAccumulator, hold what PyTorch's writer writes for the same calls."""
import glob
import os
import re
import socket
import sys

import numpy as np
import pytest

import ember
from ember.utils.tensorboard import SummaryWriter

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def _events(log_dir):
    acc = event_accumulator.EventAccumulator(
        str(log_dir), size_guidance={event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0,
                                     event_accumulator.HISTOGRAMS: 0,
                                     event_accumulator.IMAGES: 0})
    acc.Reload()
    return acc


def _scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def _torch_writer(log_dir, **kw):
    tb = pytest.importorskip("torch.utils.tensorboard")
    return tb.SummaryWriter(str(log_dir), **kw)


def test_scalars_from_numbers_tensors_and_arrays(tmp_path):
    values = [0.5, ember.tensor(1.25), np.float32(2.5), np.array([3.75]), ember.tensor([[5.0]])]
    with SummaryWriter(tmp_path / "ours") as w:
        for step, v in enumerate(values):
            w.add_scalar("loss/train", v, step)
        w.add_scalar("lr", 0.1)  # no step: 0, as PyTorch
    acc = _events(tmp_path / "ours")
    assert _scalars(acc, "loss/train") == [(0, 0.5), (1, 1.25), (2, 2.5), (3, 3.75), (4, 5.0)]
    assert _scalars(acc, "lr") == [(0, pytest.approx(0.1))]
    with pytest.raises(ValueError, match="a scalar must have one element, got shape \\(2,\\)"):
        SummaryWriter(tmp_path / "bad").add_scalar("x", ember.tensor([1.0, 2.0]))


def test_scalars_match_torch_writer(tmp_path):
    pytest.importorskip("torch")
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        for step in range(20):
            value = float(np.exp(-step / 7))
            w.add_scalar("a", value, step, walltime=1000.0 + step)
            tw.add_scalar("a", value, step, walltime=1000.0 + step)
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    assert ours.Scalars("a") == theirs.Scalars("a")  # wall time, step and value


def test_new_style_scalars_are_tensors_of_the_scalars_plugin(tmp_path):
    pytest.importorskip("torch")
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        for kw in (dict(new_style=True), dict(new_style=True, double_precision=True)):
            tag = "d" if "double_precision" in kw else "f"
            w.add_scalar(tag, 1 / 3, 7, **kw)
            tw.add_scalar(tag, 1 / 3, 7, **kw)
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    for tag in ("f", "d"):
        (o,), (t,) = ours.Tensors(tag), theirs.Tensors(tag)
        assert o.step == t.step == 7 and o.tensor_proto == t.tensor_proto
        assert ours.SummaryMetadata(tag) == theirs.SummaryMetadata(tag)


def test_add_scalars_writes_one_run_per_curve(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("run/loss", {"train": ember.tensor(1.0 / (step + 1)),
                                       "val": 2.0 / (step + 1)}, step)
    runs = sorted(os.listdir(tmp_path))
    assert "run_loss_train" in runs and "run_loss_val" in runs
    train = _events(tmp_path / "run_loss_train")
    assert _scalars(train, "run/loss") == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert [v for _, v in _scalars(_events(tmp_path / "run_loss_val"), "run/loss")] == \
        pytest.approx([2.0, 1.0, 2 / 3])


def test_histogram_matches_torch_writer(tmp_path):
    pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal(1000)
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        for bins in ("tensorflow", "auto", 10):
            w.add_histogram(f"w/{bins}", ember.from_numpy(values), 3, bins=bins)
            tw.add_histogram(f"w/{bins}", values, 3, bins=bins)
        w.add_histogram("capped", values, 4, bins=50, max_bins=8)
        tw.add_histogram("capped", values, 4, bins=50, max_bins=8)
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    for tag in ("w/tensorflow", "w/auto", "w/10", "capped"):
        (o,), (t,) = ours.Histograms(tag), theirs.Histograms(tag)
        assert o.step == t.step
        assert o.histogram_value.num == 1000
        assert o.histogram_value.min == pytest.approx(values.min())
        assert o.histogram_value.max == pytest.approx(values.max())
        assert o.histogram_value.sum == pytest.approx(values.sum())
        assert list(o.histogram_value.bucket) == list(t.histogram_value.bucket)
        assert list(o.histogram_value.bucket_limit) == pytest.approx(
            list(t.histogram_value.bucket_limit))


@pytest.mark.parametrize("shape, dataformats", [((3, 8, 5), "CHW"), ((8, 5, 3), "HWC"),
                                                ((8, 5), "HW"), ((1, 8, 5), "CHW")])
def test_image_matches_torch_writer(tmp_path, shape, dataformats):
    pytest.importorskip("torch")
    pytest.importorskip("PIL")
    img = np.random.default_rng(1).random(shape).astype(np.float32)
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        w.add_image("img", ember.from_numpy(img), 2, dataformats=dataformats)
        tw.add_image("img", img, 2, dataformats=dataformats)
        w.add_image("u8", (img * 255).astype(np.uint8), 3, dataformats=dataformats)
        tw.add_image("u8", (img * 255).astype(np.uint8), 3, dataformats=dataformats)
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    for tag in ("img", "u8"):
        (o,), (t,) = ours.Images(tag), theirs.Images(tag)
        assert (o.step, o.width, o.height) == (t.step, t.width, t.height) == (o.step, 5, 8)
        assert _decode(o.encoded_image_string) == pytest.approx(_decode(t.encoded_image_string),
                                                                abs=1)


def _decode(png):
    import io

    from PIL import Image
    return list(np.asarray(Image.open(io.BytesIO(png))).ravel().astype(int))


def test_images_are_tiled_as_torch_writer(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("PIL")
    batch = np.random.default_rng(2).random((5, 3, 6, 4)).astype(np.float32)
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        w.add_images("batch", ember.from_numpy(batch), 1)
        tw.add_images("batch", batch, 1)
        w.add_images("nhwc", batch.transpose(0, 2, 3, 1), 1, dataformats="NHWC")
        tw.add_images("nhwc", batch.transpose(0, 2, 3, 1), 1, dataformats="NHWC")
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    for tag in ("batch", "nhwc"):
        (o,), (t,) = ours.Images(tag), theirs.Images(tag)
        assert (o.width, o.height) == (t.width, t.height)
        assert _decode(o.encoded_image_string) == pytest.approx(_decode(t.encoded_image_string),
                                                                abs=1)


def test_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "lr **0.1**, batch 64", 5)
    (event,) = _events(tmp_path).Tensors("notes/text_summary")
    assert event.step == 5
    assert event.tensor_proto.string_val == [b"lr **0.1**, batch 64"]


def test_hparams_as_torch_writer(tmp_path):
    pytest.importorskip("torch")
    from tensorboard.plugins.hparams import plugin_data_pb2

    hp = {"lr": 0.1, "optimizer": "adam", "layers": 3, "dropout": None, "batch_norm": True}
    domains = {"optimizer": ["adam", "sgd"], "layers": [2, 3, 4], "batch_norm": [True, False]}
    metrics = {"hparam/accuracy": ember.tensor(0.75), "hparam/loss": 0.5}
    with SummaryWriter(tmp_path / "ours") as w:
        w.add_hparams(hp, metrics, hparam_domain_discrete=domains, run_name="trial")
    with _torch_writer(tmp_path / "theirs") as tw:
        tw.add_hparams(hp, {"hparam/accuracy": 0.75, "hparam/loss": 0.5},
                       hparam_domain_discrete=domains, run_name="trial")
    ours, theirs = _events(tmp_path / "ours" / "trial"), _events(tmp_path / "theirs" / "trial")
    assert _scalars(ours, "hparam/accuracy") == _scalars(theirs, "hparam/accuracy")
    assert _scalars(ours, "hparam/loss") == [(0, 0.5)]

    def plugin_data(acc, tag):
        content = acc.SummaryMetadata(tag).plugin_data.content
        return plugin_data_pb2.HParamsPluginData.FromString(content)

    for tag in ("_hparams_/experiment", "_hparams_/session_start_info",
                "_hparams_/session_end_info"):
        assert plugin_data(ours, tag) == plugin_data(theirs, tag), tag


def test_hparams_errors(tmp_path):
    w = SummaryWriter(tmp_path)
    with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary"):
        w.add_hparams([("lr", 0.1)], {})
    with pytest.raises(TypeError, match="hparam_domain_discrete\\[lr\\] should be a list of "
                                        "same type as hparam_dict\\[lr\\]"):
        w.add_hparams({"lr": 0.1}, {}, hparam_domain_discrete={"lr": ["fast"]})
    with pytest.raises(ValueError, match="value should be one of int, float, str, bool"):
        w.add_hparams({"sizes": [1, 2]}, {})
    w.close()


def test_default_log_dir_and_comment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1")
    w.close()
    pattern = r"runs/[A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2}_" + re.escape(socket.gethostname())
    assert re.fullmatch(pattern + "_lr0.1", w.get_logdir().replace(os.sep, "/"))
    assert os.path.isdir(w.get_logdir()) and glob.glob(os.path.join(w.log_dir, "events.*"))
    # comment only names a default log_dir, as in PyTorch
    assert SummaryWriter(tmp_path / "given", comment="x").get_logdir() == str(tmp_path / "given")


def test_filename_suffix_flush_close_and_reopen(tmp_path):
    w = SummaryWriter(tmp_path, filename_suffix=".ember", max_queue=1000, flush_secs=3600)
    w.add_scalar("x", 1.0, 0)
    w.flush()  # written now, without waiting for the queue or the timer
    assert _scalars(_events(tmp_path), "x") == [(0, 1.0)]
    (name,) = os.listdir(tmp_path)
    assert name.startswith("events.out.tfevents.") and name.endswith(".ember")
    w.close()
    w.add_scalar("x", 2.0, 1)  # after close, a new event file
    w.close()
    assert len(os.listdir(tmp_path)) == 2
    assert _scalars(_events(tmp_path), "x") == [(0, 1.0), (1, 2.0)]


def test_max_queue_pending_events_are_written_without_flush(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=3, flush_secs=3600)
    w.add_scalar("x", 1.0, 0)
    w.add_scalar("x", 2.0, 1)
    assert "x" not in _events(tmp_path).Tags()["scalars"]  # still queued
    w.add_scalar("x", 3.0, 2)
    assert _scalars(_events(tmp_path), "x") == [(0, 1.0), (1, 2.0), (2, 3.0)]
    w.close()


def test_purge_step_drops_the_steps_of_a_crashed_run(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(10):
            w.add_scalar("loss", float(step), step)
    with SummaryWriter(tmp_path, purge_step=6) as w:  # resumed from a checkpoint at step 6
        for step in range(6, 8):
            w.add_scalar("loss", 100.0 + step, step)
    steps = _scalars(_events(tmp_path), "loss")
    assert steps == [(s, float(s)) for s in range(6)] + [(6, 106.0), (7, 107.0)]


def test_add_graph_is_refused_clearly(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(NotImplementedError, match="add_graph: ember cannot trace"):
            w.add_graph(ember.nn.Linear(2, 2), ember.zeros(1, 2))


def test_training_loop_logs_as_a_pytorch_script(tmp_path):
    """The usual script: losses per step, weight histograms per epoch."""
    import ember.nn as nn
    rng = np.random.default_rng(0)
    x = ember.from_numpy(rng.standard_normal((32, 3)))
    y = ember.from_numpy(rng.standard_normal((32, 1)))
    model = nn.Linear(3, 1).double()
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    writer = SummaryWriter(tmp_path)
    for step in range(5):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        writer.add_scalar("Loss/train", loss, step)
        for name, param in model.named_parameters():
            writer.add_histogram(name, param, step)
    writer.close()
    acc = _events(tmp_path)
    losses = [v for _, v in _scalars(acc, "Loss/train")]
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert sorted(acc.Tags()["histograms"]) == ["bias", "weight"]


def test_events_reach_the_file_when_a_script_ends_without_close(tmp_path):
    import subprocess
    code = ("from ember.utils.tensorboard import SummaryWriter\n"
            f"w = SummaryWriter({str(tmp_path)!r}, flush_secs=3600)\n"
            "w.add_scalar('x', 1.5, 4)\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert _scalars(_events(tmp_path), "x") == [(4, 1.5)]


def test_pr_curves_and_raw_histograms_match_torch_writer(tmp_path):
    pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 100)
    predictions = np.clip(labels * 0.6 + rng.random(100) * 0.5, 0, 1)
    raw = dict(min=-1.0, max=2.0, num=6, sum=3.0, sum_squares=9.0,
               bucket_limits=[0.0, 1.0, 2.0], bucket_counts=[1, 3, 2])
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        w.add_pr_curve("pr", ember.from_numpy(labels), ember.from_numpy(predictions), 1)
        tw.add_pr_curve("pr", labels, predictions, 1)
        w.add_pr_curve("pr16", labels, predictions, 2, num_thresholds=16)
        tw.add_pr_curve("pr16", labels, predictions, 2, num_thresholds=16)
        w.add_histogram_raw("raw", global_step=3, **raw)
        tw.add_histogram_raw("raw", global_step=3, **raw)
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    for tag in ("pr", "pr16"):
        (o,), (t,) = ours.Tensors(tag), theirs.Tensors(tag)
        assert o.step == t.step
        np.testing.assert_allclose(_tensor(o), _tensor(t), rtol=1e-6)
        assert ours.SummaryMetadata(tag).plugin_data == theirs.SummaryMetadata(tag).plugin_data
    (o,), (t,) = ours.Histograms("raw"), theirs.Histograms("raw")
    assert o.histogram_value == t.histogram_value
    with pytest.raises(ValueError, match="len\\(bucket_limits\\) != len\\(bucket_counts\\)"):
        SummaryWriter(tmp_path / "bad").add_histogram_raw("r", 0, 1, 1, 1, 1, [1.0], [1, 2])


def _tensor(event):
    from tensorboard.util import tensor_util
    return tensor_util.make_ndarray(event.tensor_proto)


def test_custom_scalar_layouts_match_torch_writer(tmp_path):
    pytest.importorskip("torch")
    layout = {"Losses": {"both": ["Multiline", ["loss/train", "loss/val"]]},
              "Ranges": {"acc": ["Margin", ["acc", "acc_lo", "acc_hi"]]}}
    names = ("layout", "multiline", "margin")
    for name in names:
        with SummaryWriter(tmp_path / "ours" / name) as w, \
                _torch_writer(tmp_path / "theirs" / name) as tw:
            for writer in (w, tw):
                if name == "layout":
                    writer.add_custom_scalars(layout)
                elif name == "multiline":
                    writer.add_custom_scalars_multilinechart(["a", "b"], title="ab")
                else:
                    writer.add_custom_scalars_marginchart(["v", "lo", "hi"])
        ours, theirs = _events(tmp_path / "ours" / name), _events(tmp_path / "theirs" / name)
        (o,), (t,) = (acc.Tensors("custom_scalars__config__") for acc in (ours, theirs))
        assert o.tensor_proto.string_val == t.tensor_proto.string_val, name
    with pytest.raises(ValueError, match="expected 3 tags, got 2"):
        SummaryWriter(tmp_path / "bad").add_custom_scalars_marginchart(["v", "lo"])


def test_image_with_boxes_matches_torch_writer(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("PIL")
    img = np.random.default_rng(4).random((3, 20, 30)).astype(np.float32)
    boxes = np.array([[2, 3, 12, 15], [10, 1, 28, 18]], dtype=np.float32)
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        w.add_image_with_boxes("boxed", ember.from_numpy(img), ember.from_numpy(boxes), 1,
                               labels=["cat", "dog"])
        tw.add_image_with_boxes("boxed", img, boxes, 1, labels=["cat", "dog"])
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    (o,), (t,) = ours.Images("boxed"), theirs.Images("boxed")
    assert (o.width, o.height) == (t.width, t.height) == (30, 20)
    assert _decode(o.encoded_image_string) == pytest.approx(_decode(t.encoded_image_string),
                                                            abs=1)


@pytest.mark.parametrize("method", ["add_tensor", "add_video", "add_onnx_graph", "add_mesh"])
def test_unsupported_methods_are_refused_by_name(tmp_path, method):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(NotImplementedError, match=f"SummaryWriter.{method} is not supported"):
            getattr(w, method)("tag", np.zeros(3))


def test_embedding_files_as_torch_writer(tmp_path):
    """The projector's files: the same tensors.tsv, metadata.tsv and sprite as PyTorch's, and a
    projector_config.pbtxt that TensorBoard's projector parses to the same embeddings."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("PIL")
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    rng = np.random.default_rng(6)
    mat = rng.standard_normal((9, 4)).astype(np.float32)
    labels = [f"class{i % 3}" for i in range(9)]
    images = rng.random((9, 1, 5, 7)).astype(np.float32)  # not square: PyTorch allows it
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        w.add_embedding(ember.from_numpy(mat), metadata=labels,
                        label_img=ember.from_numpy(images), global_step=3, tag="feat/a")
        tw.add_embedding(mat, metadata=labels, label_img=torch.from_numpy(images), global_step=3,
                         tag="feat/a")
        w.add_embedding(mat[:, :2], metadata=[[lab, i] for i, lab in enumerate(labels)],
                        metadata_header=["label", "index"])
        tw.add_embedding(mat[:, :2], metadata=[[lab, i] for i, lab in enumerate(labels)],
                         metadata_header=["label", "index"])
    for sub in ("00003/feat%2fa", "00000/default"):
        ours, theirs = tmp_path / "ours" / sub, tmp_path / "theirs" / sub
        assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs))
        for name in ("tensors.tsv", "metadata.tsv"):
            assert (ours / name).read_text() == (theirs / name).read_text(), name
    sprite = "00003/feat%2fa/sprite.png"
    assert _png_pixels(tmp_path / "ours" / sprite) == _png_pixels(tmp_path / "theirs" / sprite)

    def config(root):
        return text_format.Parse((root / "projector_config.pbtxt").read_text(), ProjectorConfig())

    assert config(tmp_path / "ours") == config(tmp_path / "theirs")
    with pytest.raises(ValueError, match="mat should be 2-D"):
        SummaryWriter(tmp_path / "bad").add_embedding(np.zeros(3))


def _png_pixels(path):
    from PIL import Image
    return np.asarray(Image.open(path)).tolist()


def test_audio_matches_torch_writer(tmp_path):
    pytest.importorskip("torch")
    t = np.linspace(0, 1, 800, endpoint=False)
    clip = (0.8 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    loud = 1.5 * clip[None, :]  # (1, L), clipped to [-1, 1]
    with SummaryWriter(tmp_path / "ours") as w, _torch_writer(tmp_path / "theirs") as tw:
        w.add_audio("tone", ember.from_numpy(clip), 1, sample_rate=8000)
        tw.add_audio("tone", clip, 1, sample_rate=8000)
        w.add_audio("loud", loud, 2)
        tw.add_audio("loud", loud, 2)
    ours, theirs = _events(tmp_path / "ours"), _events(tmp_path / "theirs")
    for tag in ("tone", "loud"):
        (o,), (t_,) = ours.Audio(tag), theirs.Audio(tag)
        assert (o.step, o.sample_rate, o.length_frames, o.content_type) == \
            (t_.step, t_.sample_rate, t_.length_frames, t_.content_type)
        assert o.encoded_audio_string == t_.encoded_audio_string
    with pytest.raises(ValueError, match="should be 1-D \\(mono\\)"):
        SummaryWriter(tmp_path / "bad").add_audio("stereo", np.zeros((2, 10)))
