"""The programs tests/test_distributed*.py start under mpiexec (``python distributed_worker.py
SCENARIO OUT_DIR [args]``), and the single-process references they are compared with. Each rank
saves what it ended with to OUT_DIR/SCENARIO-rank{r}.npz."""
import os
import sys

import numpy as np

import ember
import ember.distributed as dist
import ember.nn as nn
import ember.nn.functional as F

B = 3  # samples per rank per step
STEPS = 3


class Net(nn.Module):
    def __init__(self, unused=False):
        super().__init__()
        self.fc1 = nn.Linear(5, 7)
        self.fc2 = nn.Linear(7, 3)
        if unused:
            self.spare = nn.Linear(2, 2)  # takes no part in forward unless use_spare

    def forward(self, x, use_spare=False):
        out = self.fc2(ember.tanh(self.fc1(x)))
        if use_spare:  # find_unused_parameters: a layer some ranks use and others do not
            out = out + self.spare(x[:, :2]).sum(1, keepdim=True)
        return out


def make_net(**kwargs):
    ember.manual_seed(0)
    return Net(**kwargs).double()


def make_bn_net():
    ember.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4)).double()


def batches(world_size):
    """STEPS global batches of world_size * B samples: the data of every run, whatever N."""
    rng = np.random.default_rng(1)
    n = world_size * B
    return [(rng.normal(size=(n, 5)), rng.integers(0, 3, size=n)) for _ in range(STEPS)]


def train_reference(world_size):
    """One process on the whole batch: SGD with momentum; the last step accumulates two halves
    of the batch as no_sync does across ranks. Returns the parameters after each step."""
    model = make_net()
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = []
    for step, (x, y) in enumerate(batches(world_size)):
        opt.zero_grad()
        if step == STEPS - 1:  # two micro-batches: rank r's first and second half-steps
            for part in (0, 1):
                xs = np.concatenate([x[r * B:(r + 1) * B][part::2] for r in range(world_size)])
                ys = np.concatenate([y[r * B:(r + 1) * B][part::2] for r in range(world_size)])
                F.cross_entropy(model(ember.tensor(xs)), ember.tensor(ys)).backward()
        else:
            F.cross_entropy(model(ember.tensor(x)), ember.tensor(y)).backward()
        opt.step()
        history.append([p.detach().numpy().copy() for p in model.parameters()])
    return history


def make_syncbn_net():
    ember.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                         nn.Flatten(), nn.Linear(3 * 4 * 4, 3)).double()


def syncbn_batches(world_size):
    rng = np.random.default_rng(3)
    n = world_size * B  # an offset mean and a scale: the statistics are not trivial
    return [(rng.normal(1.5, 2.0, size=(n, 2, 4, 4)), rng.integers(0, 3, size=n))
            for _ in range(STEPS)]


def train_syncbn(model, x_y):
    """SGD steps on (x, y) pairs; per step the logits and the input's gradient, then the
    parameters and BatchNorm buffers after the step; at the end the eval-mode logits of the
    last x."""
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    record = {}
    for step, (x, y) in enumerate(x_y):
        xt = ember.tensor(x, requires_grad=True)
        opt.zero_grad()
        logits = model(xt)
        F.cross_entropy(logits, ember.tensor(y)).backward()
        opt.step()
        record[f"step{step}_logits"] = logits.detach().numpy()
        record[f"step{step}_x_grad"] = xt.grad.numpy()
        for key, t in list(model.state_dict().items()):
            record[f"step{step}_{key}"] = t.numpy().copy()
    model.eval()
    with ember.no_grad():
        record["eval_logits"] = model(ember.tensor(x)).numpy()
    return record


def train_syncbn_reference(world_size):
    """One process with BatchNorm on the whole batch of every step."""
    return train_syncbn(make_syncbn_net(), syncbn_batches(world_size))


def _save(out_dir, name, **arrays):
    np.savez(os.path.join(out_dir, f"{name}-rank{dist.get_rank()}.npz"), **arrays)


def scenario_collectives(out_dir):
    r, n = dist.get_rank(), dist.get_world_size()
    out = {}
    for op in ("SUM", "AVG", "MAX", "MIN"):
        t = ember.tensor([1.0 + r, -2.0 * r, 3.0])
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        out[op] = t.numpy()
    t = ember.tensor([5.0, 6.0]) if r == 0 else ember.zeros(2)
    dist.broadcast(t, src=0)
    out["broadcast"] = t.numpy()
    gathered = [ember.zeros(2, dtype=ember.int64) for _ in range(n)]
    dist.all_gather(gathered, ember.tensor([r, 10 * r]))
    out["all_gather"] = np.stack([g.numpy() for g in gathered])
    result = ember.zeros(2)
    dist.reduce_scatter(result, [ember.tensor([float(r + i), 1.0]) for i in range(n)])
    out["reduce_scatter"] = result.numpy()
    work = dist.all_reduce(ember.tensor([1.0]), async_op=True)
    out["async_done"] = np.array(work.wait())
    dist.barrier()
    bad_calls = {  # each is refused on every rank before any message is sent
        "premul": lambda: dist.all_reduce(ember.ones(2), op=dist.ReduceOp.PREMUL_SUM),
        "avg_int": lambda: dist.all_reduce(ember.ones(2, dtype=ember.int64),
                                           op=dist.ReduceOp.AVG),
        "op_type": lambda: dist.all_reduce(ember.ones(2), op="sum"),
        "src": lambda: dist.broadcast(ember.ones(2), src=n),
        "list_len": lambda: dist.all_gather([ember.ones(2)], ember.ones(2)),
        "list_shape": lambda: dist.reduce_scatter(ember.ones(2), [ember.ones(3)] * n),
        "not_tensor": lambda: dist.all_reduce(np.ones(2)),
        "twice": lambda: dist.init_process_group("mpi"),
    }
    for key, call in bad_calls.items():
        try:
            call()
            out[f"error_{key}"] = np.array("")
        except (ValueError, TypeError, NotImplementedError) as exc:
            out[f"error_{key}"] = np.array(f"{type(exc).__name__}: {exc}")
    _save(out_dir, "collectives", **out)


def _train_ddp(overlap):
    """The DDP run the 1-vs-N test checks: STEPS steps (the last accumulating two halves, the
    first inside no_sync); the parameters after each step, and what the reducer saw."""
    r, n = dist.get_rank(), dist.get_world_size()
    if r != 0:
        ember.manual_seed(100 + r)  # different initial weights: DDP must broadcast rank 0's
        model = Net().double()
    else:
        model = make_net()
    # bucket_cap_mb applies to the first bucket too when given: four buckets of one parameter
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
    ddp._reducer.overlap = overlap
    fc1_grad_at_start = []  # per started bucket: did the first layer have its gradient yet?
    start = ddp._reducer._start

    def recording_start(grads):
        fc1_grad_at_start.append(model.fc1.weight.grad is not None)
        start(grads)
    ddp._reducer._start = recording_start
    opt = ember.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    params = {}
    for step, (x, y) in enumerate(batches(n)):
        xr, yr = x[r * B:(r + 1) * B], y[r * B:(r + 1) * B]
        opt.zero_grad()
        if step == STEPS - 1:
            with ddp.no_sync():
                F.cross_entropy(ddp(ember.tensor(xr[0::2])), ember.tensor(yr[0::2])).backward()
            params["no_sync_grad"] = model.fc1.weight.grad.numpy().copy()  # this rank's own
            F.cross_entropy(ddp(ember.tensor(xr[1::2])), ember.tensor(yr[1::2])).backward()
        else:
            F.cross_entropy(ddp(ember.tensor(x[r * B:(r + 1) * B])),
                            ember.tensor(y[r * B:(r + 1) * B])).backward()
        if step == 0:
            params["buckets"] = np.array(len(ddp._reducer.buckets))
            params["fc1_grad_at_start"] = np.array(fc1_grad_at_start)
        opt.step()
        for i, p in enumerate(ddp.module.parameters()):
            params[f"step{step}_p{i}"] = p.detach().numpy().copy()
    return ddp, params


def scenario_ddp(out_dir):
    r, n = dist.get_rank(), dist.get_world_size()
    ddp, params = _train_ddp(overlap=True)
    _, serial = _train_ddp(overlap=False)  # every bucket started after backward
    params.update({f"serial_{k}": v for k, v in serial.items()})
    # a dropped DDP takes its gradient hooks with it, though its module lives on
    import gc
    from ember import post_accumulate_hooks
    kept = make_net()
    nn.parallel.DistributedDataParallel(kept)
    gc.collect()
    ids = {id(p) for p in kept.parameters()}
    params["hooks_left"] = np.array(sum(len(hooks) for key, (_, hooks)
                                        in post_accumulate_hooks._hooks.items() if key in ids))
    params["state_dict_keys"] = np.array(sorted(ddp.state_dict()))
    x, y = batches(n)[0]
    xr, yr = x[r * B:(r + 1) * B], y[r * B:(r + 1) * B]

    # find_unused_parameters: the spare layer has no gradient anywhere, so it keeps none.
    spare = nn.parallel.DistributedDataParallel(make_net(unused=True),
                                                find_unused_parameters=True)
    F.cross_entropy(spare(ember.tensor(xr)), ember.tensor(yr)).backward()
    params["unused_grad_is_none"] = np.array(spare.module.spare.weight.grad is None)
    params["used_grad"] = spare.module.fc1.weight.grad.numpy()
    # ... and a spare layer only rank 0 uses gets rank 0's gradient averaged over all ranks
    branchy = nn.parallel.DistributedDataParallel(make_net(unused=True), bucket_cap_mb=0.0001,
                                                  find_unused_parameters=True)
    F.cross_entropy(branchy(ember.tensor(xr), use_spare=r == 0), ember.tensor(yr)).backward()
    params["spare_grad"] = branchy.module.spare.weight.grad.numpy()
    if r == 0:
        local = make_net(unused=True)
        F.cross_entropy(local(ember.tensor(xr), use_spare=True), ember.tensor(yr)).backward()
        params["spare_local_grad"] = local.spare.weight.grad.numpy()
    strict = nn.parallel.DistributedDataParallel(make_net(unused=True))
    try:
        F.cross_entropy(strict(ember.tensor(xr)), ember.tensor(yr)).backward()
        params["strict_error"] = np.array("")
    except RuntimeError as exc:
        params["strict_error"] = np.array(str(exc))

    # BatchNorm: each rank normalises with its own batch; rank 0's running statistics are
    # copied to every rank before each forward.
    bn_model = make_bn_net()
    bn = nn.parallel.DistributedDataParallel(bn_model)
    for step, (x, _) in enumerate(batches(n)[:2]):
        bn(ember.tensor(x[r * B:(r + 1) * B])).sum().backward()
        params[f"bn_after{step}"] = bn_model[1].running_mean.numpy().copy()
    _save(out_dir, "ddp", **params)
    scenario_syncbn(out_dir)  # in the same job: one mpiexec start less for the tests


def scenario_syncbn(out_dir):
    """SyncBatchNorm under DDP, each rank with its B samples of every step; then a bare
    SyncBatchNorm where rank 0 has an empty batch and still takes part."""
    r, n = dist.get_rank(), dist.get_world_size()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(make_syncbn_net())
    ddp = nn.parallel.DistributedDataParallel(model)
    record = train_syncbn(ddp, [(x[r * B:(r + 1) * B], y[r * B:(r + 1) * B])
                                for x, y in syncbn_batches(n)])
    record = {k.replace("module.", ""): v for k, v in record.items()}
    record["layer_type"] = np.array(type(model[1]).__name__)

    bn = nn.SyncBatchNorm(4).double()
    x = np.random.default_rng(4 + r).normal(size=(0 if r == 0 else B, 4))
    xt = ember.tensor(x, requires_grad=True)
    g = np.random.default_rng(40 + r).normal(size=x.shape)
    y = bn(xt)
    (y * ember.tensor(g)).sum().backward()
    record.update(empty_x=x, empty_g=g, empty_y=y.detach().numpy(), empty_x_grad=xt.grad.numpy(),
                  empty_w_grad=bn.weight.grad.numpy(), empty_b_grad=bn.bias.grad.numpy(),
                  empty_running_var=bn.running_var.numpy())
    try:  # refused on every rank before any message, so none is left waiting
        nn.SyncBatchNorm(4).double()(ember.ones(2, 3, dtype=ember.float64))
        record["shape_error"] = np.array("")
    except ValueError as exc:
        record["shape_error"] = np.array(f"{type(exc).__name__}: {exc}")
    _save(out_dir, "syncbn", **record)


def scenario_hang(out_dir, timeout):
    """Rank 1 never joins the all_reduce; the others must raise DistBackendError in time."""
    import datetime
    import time
    dist.destroy_process_group()
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=float(timeout)))
    if dist.get_rank() == 1:
        time.sleep(600)
    try:
        dist.all_reduce(ember.ones(3))
    except dist.DistBackendError as exc:
        print(f"rank {dist.get_rank()} caught: {exc}", flush=True)
        raise


def scenario_kill(out_dir):
    """Rank 1 is killed in the middle of training."""
    import signal
    model = nn.parallel.DistributedDataParallel(make_net())
    for step in range(1000):
        if step == 2 and dist.get_rank() == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        model(ember.ones(2, 5, dtype=ember.float64)).sum().backward()


def scenario_network(out_dir):
    """The DDP run, then 2 MB through an all_reduce, so the bytes on the wire are countable."""
    scenario_ddp(out_dir)
    big = ember.ones(2 ** 18, dtype=ember.float64)
    dist.all_reduce(big)
    _save(out_dir, "network", total=np.array(big.numpy().sum()))


def keras_data():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(29, 5)).astype(np.float32)  # 29: the last batch of 8 is uneven
    return x, rng.integers(0, 3, size=29)


def keras_fit(shuffle, out_dir=None, verbose=0):
    """The same few lines with one process or many; under DataParallel when out_dir is given."""
    from ember import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = keras_data()
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=shuffle, verbose=verbose,
                        validation_data=(x[:10], y[:10]))
    return [w.copy() for w in model.get_weights()], history.history


def scenario_keras(out_dir, shuffle):
    from ember import keras
    if dist.get_rank() != 0:
        keras.utils.set_random_seed(dist.get_rank())  # DataParallel must not depend on seeds
    with keras.distribution.DataParallel().scope():
        weights, history = keras_fit(shuffle == "shuffle", out_dir, verbose=2)
    _save(out_dir, f"keras-{shuffle}", **{f"w{i}": w for i, w in enumerate(weights)},
          **{f"h_{k}": np.array(v) for k, v in history.items()})


if __name__ == "__main__":
    name, out = sys.argv[1], sys.argv[2]
    dist.init_process_group("mpi")
    globals()[f"scenario_{name}"](out, *sys.argv[3:])
    dist.destroy_process_group()
