"""keras.callbacks.TensorBoard writes real event files, read back with TensorBoard's own
EventAccumulator: the train/ and validation/ runs and the tag names Keras 3 writes ("epoch_loss",
"epoch_learning_rate", "batch_loss", "evaluation_loss_vs_iterations", weight histograms and
images, the "keras" model summary). (Real Keras' TensorBoard callback needs TensorFlow, which is
not installed beside ember, so the tags follow Keras 3.15's source.)"""
import json
import os

import numpy as np
import pytest

from ember import keras as ek

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

RNG = np.random.default_rng(0)
X = RNG.random((20, 3), dtype=np.float32)
Y = X @ RNG.random((3, 1), dtype=np.float32)


def _events(log_dir):
    acc = event_accumulator.EventAccumulator(str(log_dir), size_guidance={
        event_accumulator.TENSORS: 0, event_accumulator.SCALARS: 0,
        event_accumulator.HISTOGRAMS: 0, event_accumulator.IMAGES: 0})
    acc.Reload()
    return acc


def _scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def _model():
    net = ek.Sequential([ek.Input((3,)), ek.layers.Dense(4, activation="relu"),
                         ek.layers.Dense(1)])
    net.compile(optimizer=ek.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    return net


def test_fit_writes_keras_runs_and_tags(tmp_path):
    net = _model()
    board = ek.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, write_images=True,
                                     update_freq=2)
    history = net.fit(X, Y, batch_size=4, epochs=3, validation_split=0.2, verbose=0,
                      callbacks=[board]).history
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    train, val = _events(tmp_path / "train"), _events(tmp_path / "validation")

    for name in ("loss", "mae"):
        got = _scalars(train, f"epoch_{name}")
        assert [s for s, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in got], history[name], rtol=1e-6)
        got = _scalars(val, f"epoch_{name}")
        np.testing.assert_allclose([v for _, v in got], history[f"val_{name}"], rtol=1e-6)
    assert _scalars(train, "epoch_learning_rate") == [(e, pytest.approx(0.05))
                                                      for e in range(3)]
    # 16 training samples in batches of 4: 4 steps an epoch, a batch summary every 2nd step
    assert [s for s, _ in _scalars(train, "batch_loss")] == list(range(2, 13, 2))
    assert [s for s, _ in _scalars(val, "evaluation_loss_vs_iterations")] == [4, 8, 12]
    np.testing.assert_allclose([v for _, v in _scalars(val, "evaluation_loss_vs_iterations")],
                               history["val_loss"], rtol=1e-6)

    tags = train.Tags()
    names = [w.path for layer in net.layers for w in layer.weights]
    assert len(names) == 4
    assert sorted(tags["histograms"]) == sorted(f"{n}/histogram" for n in names)
    kernel = net.layers[0].get_weights()[0]
    last = train.Histograms(f"{names[0]}/histogram")[-1]
    assert [h.step for h in train.Histograms(f"{names[0]}/histogram")] == [0, 1, 2]
    assert last.histogram_value.num == kernel.size
    assert last.histogram_value.min == pytest.approx(kernel.min())
    assert last.histogram_value.max == pytest.approx(kernel.max())
    # As Keras draws them: the (3, 4) kernel as a 3x4 image, the (4,) bias and the (4, 1)
    # kernel (squeezed) as 4x1 columns, the (1,) bias (a scalar once squeezed) not at all.
    assert sorted(tags["images"]) == sorted(f"{n}/image" for n in names[:3])
    image = train.Images(f"{names[0]}/image")[-1]
    assert (image.height, image.width) == (3, 4)
    for name in names[1:3]:
        strip = train.Images(f"{name}/image")[-1]
        assert (strip.height, strip.width) == (4, 1)


def _functional():
    inputs = ek.Input((3,))
    net = ek.Model(inputs, ek.layers.Dense(1)(ek.layers.Dense(4)(inputs)))
    net.compile(optimizer="sgd", loss="mse")
    return net


@pytest.mark.parametrize("make, kind", [(_model, "Sequential"), (_functional, "Functional")])
def test_the_model_summary_is_written_for_the_graph_plugin(tmp_path, make, kind):
    net = make()
    net.fit(X, Y, epochs=1, verbose=0, callbacks=[ek.callbacks.TensorBoard(str(tmp_path))])
    train = _events(tmp_path / "train")
    assert "keras" in train.Tags()["tensors"]
    event = train.Tensors("keras")[0]
    assert event.step == 0
    config = json.loads(event.tensor_proto.string_val[0])
    assert config["class_name"] == kind
    assert config["config"] == json.loads(json.dumps(net.get_config()))
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"


def test_defaults_write_epoch_scalars_only(tmp_path):
    _model().fit(X, Y, epochs=2, verbose=0,
                 callbacks=[ek.callbacks.TensorBoard(str(tmp_path), write_graph=False)])
    assert os.listdir(tmp_path) == ["train"]  # no validation: no validation run
    tags = _events(tmp_path / "train").Tags()
    assert sorted(tags["scalars"]) == ["epoch_learning_rate", "epoch_loss", "epoch_mae"]
    assert tags["histograms"] == [] and tags["tensors"] == []


def test_evaluate_with_the_callback_writes_evaluation_scalars(tmp_path):
    net = _model()
    net.fit(X, Y, epochs=1, batch_size=5, verbose=0)
    loss, mae = net.evaluate(X, Y, verbose=0, callbacks=[
        ek.callbacks.TensorBoard(str(tmp_path), write_graph=False)])
    val = _events(tmp_path / "validation")
    assert _scalars(val, "evaluation_loss_vs_iterations") == [(4, pytest.approx(loss))]
    assert _scalars(val, "evaluation_mae_vs_iterations") == [(4, pytest.approx(mae))]


def test_steps_per_second_and_batch_update_freq(tmp_path):
    _model().fit(X, Y, epochs=1, batch_size=10, verbose=0, callbacks=[
        ek.callbacks.TensorBoard(str(tmp_path), update_freq="batch",
                                 write_steps_per_second=True, write_graph=False)])
    train = _events(tmp_path / "train")
    assert [s for s, _ in _scalars(train, "batch_steps_per_second")] == [1, 2]
    assert [s for s, _ in _scalars(train, "batch_loss")] == [1, 2]
    assert [s for s, v in _scalars(train, "epoch_steps_per_second") if v > 0] == [0]


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(profile_batch=2), NotImplementedError, "profile_batch must be 0"),
    (dict(profile_batch=(1, 3)), NotImplementedError, "profiling is not available"),
    (dict(embeddings_freq=1), NotImplementedError, "embeddings projector"),
    (dict(update_freq="never"), ValueError, "update_freq must be 'epoch', 'batch'"),
    (dict(histogram_freq=-1), ValueError, "histogram_freq must be a non-negative"),
])
def test_unsupported_and_bad_arguments_read_well(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        ek.callbacks.TensorBoard(str(tmp_path), **kwargs)
