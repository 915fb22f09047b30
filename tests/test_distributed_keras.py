"""Keras fit inside keras.distribution.DataParallel on 2 and 4 MPI ranks (skipped without
mpi4py/mpiexec): the same weights and logs as one process fitting the whole batch, progress
printed once, and the same script giving the same model on 1 and 2 ranks when shuffling."""
import numpy as np
import pytest

from distributed_launch import check_ok, run_ranks
from distributed_worker import keras_fit


def _load(out_dir, name, rank):
    return np.load(out_dir / f"{name}-rank{rank}.npz")


@pytest.mark.parametrize("n", [2, 4])
def test_fit_on_n_ranks_matches_one_process(tmp_path, n):
    result = run_ranks(n, "keras", tmp_path, "plain")
    check_ok(result)
    assert result.stdout.count("Epoch 1/3") == 1  # the progress of rank 0 only
    weights, history = keras_fit(shuffle=False)
    for r in range(n):
        d = _load(tmp_path, "keras-plain", r)
        for i, w in enumerate(weights):
            np.testing.assert_allclose(d[f"w{i}"], w, rtol=0, atol=1e-5)
            np.testing.assert_array_equal(d[f"w{i}"], _load(tmp_path, "keras-plain", 0)[f"w{i}"])
        for key, values in history.items():  # logs of the whole batch, on every rank
            np.testing.assert_allclose(d[f"h_{key}"], values, rtol=1e-5, atol=1e-6)


def test_shuffled_fit_gives_the_same_model_on_one_and_two_ranks(tmp_path):
    for n in (1, 2):
        (tmp_path / str(n)).mkdir()
        check_ok(run_ranks(n, "keras", tmp_path / str(n), "shuffle"))
    one = _load(tmp_path / "1", "keras-shuffle", 0)
    weights, _ = keras_fit(shuffle=False)
    assert not np.allclose(one["w0"], weights[0], atol=1e-5)  # the shuffle took effect
    for r in range(2):
        two = _load(tmp_path / "2", "keras-shuffle", r)
        for i in range(4):
            np.testing.assert_allclose(two[f"w{i}"], one[f"w{i}"], rtol=0, atol=1e-5)
        np.testing.assert_allclose(two["h_loss"], one["h_loss"], rtol=1e-5)


def test_file_and_console_callbacks_stay_on_rank_zero():
    from ember import keras
    from ember.keras.data_parallel_fit import DataParallelFit
    cbs = [keras.callbacks.ProgbarLogger(), keras.callbacks.CSVLogger("log.csv"),
           keras.callbacks.ModelCheckpoint("m.keras"), keras.callbacks.EarlyStopping(),
           keras.callbacks.History()]
    step = DataParallelFit.__new__(DataParallelFit)
    for rank, kept in ((0, cbs), (1, cbs[3:])):
        step.rank = rank
        assert step.callbacks(cbs) == kept
        assert step.verbose(2) == (2 if rank == 0 else 0)


def test_distribution_arguments_ember_cannot_honour():
    from ember import keras
    with pytest.raises(NotImplementedError, match="device_mesh"):
        keras.distribution.DataParallel(device_mesh=object())
    with pytest.raises(NotImplementedError, match="auto_shard_dataset"):
        keras.distribution.DataParallel(auto_shard_dataset=False)
    with pytest.raises(ValueError, match="expected a DataParallel"):
        keras.distribution.set_distribution("data_parallel")
    assert keras.distribution.distribution() is None
    assert keras.distribution.list_devices() == ["cpu:0"]


def test_batch_statistics_layers_are_refused():
    """Keras' DataParallel normalises with the whole batch; ember's ranks see only a share."""
    from ember import keras
    from ember.keras.data_parallel_fit import _refuse_batch_statistics
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                              keras.layers.BatchNormalization()])
    with pytest.raises(NotImplementedError, match="BatchNormalization .* own statistics"):
        _refuse_batch_statistics(model)
    _refuse_batch_statistics(keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                                               keras.layers.LayerNormalization()]))


def test_a_custom_train_step_is_refused_under_data_parallel(monkeypatch):
    """Its gradients would not be averaged across the ranks: refused before any step."""
    from ember import keras
    from ember.keras import distribution as distribution_module

    class OwnStep(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            raise AssertionError("must not run")

    model = OwnStep()
    model.compile(optimizer="sgd", loss="mse")
    monkeypatch.setattr(distribution_module, "distribution", lambda: object())
    with pytest.raises(NotImplementedError, match="own train_step"):
        model.fit(np.zeros((4, 3), np.float32), np.zeros((4, 1), np.float32), verbose=0)
