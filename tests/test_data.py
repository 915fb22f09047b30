"""ember.utils.data against torch.utils.data: datasets, samplers, collation, DataLoader."""
import collections

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset,
                              RandomSampler, SequentialSampler, Subset, SubsetRandomSampler,
                              TensorDataset, default_collate, default_convert, random_split)

Point = collections.namedtuple("Point", ["x", "y"])


def _plain(obj):
    """A structure of tensors (ember or torch) as comparable Python values."""
    if hasattr(obj, "numpy") and hasattr(obj, "dtype") and hasattr(obj, "shape"):
        array = obj.detach().numpy() if hasattr(obj, "detach") else obj.numpy()
        return ("tensor", str(obj.dtype).split(".")[-1], tuple(obj.shape), array.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: _plain(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return (type(obj).__name__, tuple(_plain(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [_plain(v) for v in obj])
    return obj


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full((2,), i, np.float32), "y": i, "pair": (float(i), i % 2 == 0)}

    def __len__(self):
        return self.n


# ---- datasets ----------------------------------------------------------------------------------

def test_tensor_dataset_items_and_len():
    x, y = ember.arange(12).reshape(6, 2), ember.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert xi.tolist() == [8, 9] and yi.item() == 4
    assert ds.tensors[0] is x


def test_tensor_dataset_errors():
    with pytest.raises(ember.ShapeError, match=r"first dimensions are \[3, 4\]"):
        TensorDataset(ember.zeros(3, 2), ember.zeros(4))
    with pytest.raises(TypeError, match="ndarray at position 1.*from_numpy"):
        TensorDataset(ember.zeros(3), np.zeros(3))
    with pytest.raises(ember.ShapeError, match="0-dimensional"):
        TensorDataset(ember.tensor(1.0))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_subset_and_concat_dataset():
    base = TensorDataset(ember.arange(10))
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and sub[1][0].item() == 2
    assert [s[0].item() for s in sub.__getitems__([0, 2])] == [7, 5]
    both = ConcatDataset([sub, base])
    assert len(both) == 13 and both.cumulative_sizes == [3, 13]
    assert both[0][0].item() == 7 and both[3][0].item() == 0 and both[-1][0].item() == 9
    assert len(sub + base) == 13
    with pytest.raises(IndexError, match="index 13 is out of range.*length 13"):
        both[13]
    with pytest.raises(ValueError, match="absolute value of index"):
        both[-14]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_subset_subclass_must_override_getitems():
    class Bad(Subset):
        def __getitem__(self, idx):
            return 0

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not __getitems__"):
        Bad(TensorDataset(ember.zeros(3)), [0])


# ---- collation ---------------------------------------------------------------------------------

def _nested_samples(lib, tensor):
    return [
        [tensor([1.0, 2.0]), tensor([[1, 2]])],
        {"a": np.arange(3, dtype=np.int32) + 3, "b": (np.float32(0.5), 2.5, 7, True, "s"),
         "c": Point(np.uint8(4), [1, 2])},
        (np.arange(4, dtype=np.float64).reshape(2, 2), np.array([True, False])),
        [1.5, 2.5],
        [3, 4],
        [True, False],
        [np.int64(3), np.int64(-1)],
        ["u", "v"],
    ]


@pytest.mark.parametrize("case", range(8))
def test_default_collate_matches_torch(case):
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    def pairs(lib, tensor):
        sample = _nested_samples(lib, tensor)[case]
        if case in (0,):
            return [sample, [t * 2 for t in sample]]
        if case == 1:
            other = dict(sample, a=sample["a"] * 2)
            return [sample, other]
        if case == 2:
            return [sample, tuple(a[::-1].copy() for a in sample)]
        return sample  # already a batch of scalars

    ours = default_collate(pairs(ember, ember.tensor))
    theirs = torch_collate(pairs(torch, torch.tensor))
    assert _plain(ours) == _plain(theirs)


def test_default_collate_keeps_types_of_containers():
    batch = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(batch, Point) and batch.x.dtype == ember.int64
    assert batch.y.dtype == ember.float64
    assert isinstance(default_collate([(1, 2), (3, 4)]), list)  # tuples become lists, as in torch
    ordered = default_collate([collections.OrderedDict(b=1, a=2)] * 2)
    assert isinstance(ordered, collections.OrderedDict) and list(ordered) == ["b", "a"]


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    with pytest.raises(ember.ShapeError, match=r"\(2,\), \(3,\)"):
        default_collate([ember.zeros(2), ember.zeros(3)])
    with pytest.raises(ember.ShapeError, match=r"\(2,\), \(3,\)"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_default_collate_keeps_autograd():
    w = ember.ones(2, requires_grad=True)
    batch = default_collate([w * 2, w * 3])
    batch.sum().backward()
    assert w.grad.tolist() == [5.0, 5.0]


def test_default_convert_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert
    sample = {"a": np.arange(3), "b": (np.float32(1.5), 2, "s"), "c": Point(np.zeros(2), 1)}
    assert _plain(default_convert(sample)) == _plain(torch_convert(sample))


# ---- samplers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                                    (2, 5, False), (2, 5, True), (0, 2, False)])
def test_batch_sampler_matches_torch(n, batch_size, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    ours = BatchSampler(SequentialSampler(range(n)), batch_size, drop_last)
    theirs = torch_data.BatchSampler(torch_data.SequentialSampler(range(n)), batch_size,
                                     drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("kwargs,message", [
    (dict(batch_size=0, drop_last=False),
     "batch_size should be a positive integer value, but got batch_size=0"),
    (dict(batch_size=True, drop_last=False), "batch_size=True"),
    (dict(batch_size=2, drop_last=1), "drop_last should be a boolean value, but got drop_last=1"),
])
def test_batch_sampler_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchSampler(range(4), **kwargs)


def test_random_sampler():
    order = list(RandomSampler(range(20), generator=ember.Generator().manual_seed(1)))
    assert sorted(order) == list(range(20)) and order != list(range(20))
    assert order == list(RandomSampler(range(20), generator=ember.Generator().manual_seed(1)))
    longer = list(RandomSampler(range(5), num_samples=12, generator=ember.Generator()))
    assert len(longer) == 12 and sorted(longer[:5]) == list(range(5))
    drawn = list(RandomSampler(range(3), replacement=True, num_samples=70))
    assert len(drawn) == 70 and set(drawn) <= {0, 1, 2}
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but "
                                         "got num_samples=0"):
        RandomSampler(range(0))
    with pytest.raises(TypeError, match="generator must be an ember.Generator"):
        RandomSampler(range(3), generator=np.random.default_rng())


def test_subset_random_sampler():
    picked = list(SubsetRandomSampler([3, 5, 9], generator=ember.Generator().manual_seed(0)))
    assert sorted(picked) == [3, 5, 9]


# ---- DataLoader --------------------------------------------------------------------------------

@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 4, False), (10, 4, True), (8, 4, True),
                                                    (3, 5, False), (3, 5, True), (7, 1, False)])
def test_loader_over_tensor_dataset_matches_torch(n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((n, 2, 3)).astype(np.float32)
    y = np.arange(n)
    ours = DataLoader(TensorDataset(ember.from_numpy(x), ember.from_numpy(y)),
                      batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size, drop_last=drop_last)
    assert len(ours) == len(theirs)
    assert _plain(list(ours)) == _plain(list(theirs))


def test_loader_over_generic_dataset_matches_torch():
    torch = pytest.importorskip("torch")

    class TorchSquares(torch.utils.data.Dataset):
        __getitem__, __len__ = Squares.__getitem__, Squares.__len__

        def __init__(self, n):
            self.n = n

    ours = DataLoader(Squares(7), batch_size=3)
    theirs = torch.utils.data.DataLoader(TorchSquares(7), batch_size=3)
    assert len(ours) == len(theirs) == 3
    assert _plain(list(ours)) == _plain(list(theirs))
    unbatched = DataLoader(Squares(2), batch_size=None)
    theirs = torch.utils.data.DataLoader(TorchSquares(2), batch_size=None)
    assert len(unbatched) == 2
    assert _plain(list(unbatched)) == _plain(list(theirs))


def _slow_collate(batch):
    return default_collate(batch)  # not `default_collate` itself, so the fast path is off


@pytest.mark.parametrize("through_split", [False, True])
def test_fast_path_equals_stacking_samples(through_split, monkeypatch):
    x = ember.randn(23, 4)
    y = ember.randint(0, 10, (23,)).to(ember.uint8)
    dataset = TensorDataset(x, y)
    if through_split:
        dataset = random_split(dataset, [0.7, 0.3], generator=ember.Generator().manual_seed(3))[0]

    def loader(collate_fn):
        return DataLoader(dataset, batch_size=5, shuffle=True, collate_fn=collate_fn,
                          generator=ember.Generator().manual_seed(9))

    expected = [(bx.numpy(), by.numpy()) for bx, by in loader(_slow_collate)]
    # The fast path never asks the dataset for single samples.
    monkeypatch.setattr(TensorDataset, "__getitem__", lambda self, i: 1 / 0)
    got = list(loader(None))
    assert len(got) == len(expected) == (4 if through_split else 5)  # 17 or 23 samples
    for (bx, by), (ex, ey) in zip(got, expected):
        assert isinstance(bx, ember.Tensor) and bx.dtype == ember.float32
        assert by.dtype == ember.uint8
        np.testing.assert_array_equal(bx.numpy(), ex)
        np.testing.assert_array_equal(by.numpy(), ey)


def test_loader_keeps_autograd_of_dataset_tensors():
    w = ember.randn(4, 2, requires_grad=True)
    (batch,) = next(iter(DataLoader(TensorDataset(w), batch_size=4)))
    batch.sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0]] * 4


def test_shuffle_is_reproducible():
    data = TensorDataset(ember.arange(50))

    def epoch(loader):
        return [b[0].tolist() for b in loader]

    def seeded(seed):
        return DataLoader(data, batch_size=8, shuffle=True,
                          generator=ember.Generator().manual_seed(seed))

    first = epoch(seeded(0))
    assert sorted(sum(first, [])) == list(range(50)) and sum(first, []) != list(range(50))
    assert epoch(seeded(0)) == first
    assert epoch(seeded(1)) != first
    loader = seeded(0)
    assert epoch(loader) == first and epoch(loader) != first  # each epoch a new order

    ember.manual_seed(5)
    default_a = epoch(DataLoader(data, batch_size=8, shuffle=True))
    ember.manual_seed(5)
    default_b = epoch(DataLoader(data, batch_size=8, shuffle=True))
    assert default_a == default_b and sorted(sum(default_a, [])) == list(range(50))


def test_loader_with_samplers():
    data = TensorDataset(ember.arange(6))
    by_sampler = DataLoader(data, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert [b[0].tolist() for b in by_sampler] == [[5, 4], [3, 2], [1, 0]]
    by_batches = DataLoader(data, batch_sampler=[[0, 1, 2], [5]])
    assert [b[0].tolist() for b in by_batches] == [[0, 1, 2], [5]] and len(by_batches) == 2


def test_loader_over_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    batches = [b.tolist() for b in DataLoader(Stream(), batch_size=3)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]] and len(DataLoader(Stream(), batch_size=3)) == 3
    dropped = DataLoader(Stream(), batch_size=3, drop_last=True)
    assert [b.tolist() for b in dropped] == [[0, 1, 2], [3, 4, 5]] and len(dropped) == 2
    with pytest.raises(ValueError, match="expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(num_workers=-1), ValueError, "num_workers option should be non-negative"),
    (dict(shuffle=True, sampler=[0, 1]), ValueError, "sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], batch_size=2), ValueError, "batch_sampler option is mutually"),
    (dict(batch_size=None, drop_last=True), ValueError, "batch_size=None option disables"),
    (dict(batch_size=0), ValueError, "batch_size should be a positive integer value"),
    (dict(persistent_workers=True), ValueError, "persistent_workers option needs num_workers"),
    (dict(prefetch_factor=2), ValueError, "prefetch_factor option could only be specified"),
    (dict(timeout=-1), ValueError, "timeout option should be non-negative"),
    (dict(shuffle=True, generator=3), TypeError, "generator must be an ember.Generator"),
])
def test_loader_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        DataLoader(TensorDataset(ember.zeros(4)), **kwargs)


def test_loader_attributes_are_frozen_and_pin_memory_warns():
    loader = DataLoader(TensorDataset(ember.zeros(4)), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after"):
        loader.batch_size = 3
    pinned = DataLoader(TensorDataset(ember.zeros(4)), batch_size=2, pin_memory=True)
    with pytest.warns(UserWarning, match="pin_memory"):
        assert len(list(pinned)) == 2


# ---- random_split ------------------------------------------------------------------------------

@pytest.mark.parametrize("n,lengths", [
    (10, [0.3, 0.7]), (11, [0.5, 0.5]), (7, [0.1, 0.2, 0.3, 0.4]), (5, [1 / 3] * 3),
    (100, [0.8, 0.1, 0.1]), (10, [3, 7]), (1, [1.0]),
])
def test_random_split_sizes_match_torch(n, lengths):
    torch = pytest.importorskip("torch")
    ours = random_split(range(n), lengths, generator=ember.Generator().manual_seed(0))
    theirs = torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(n))  # disjoint and covering


def test_random_split_zero_length_warns_like_torch():
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        parts = random_split(range(3), [0.9, 0.1])
    assert [len(p) for p in parts] == [3, 0]


def test_random_split_is_reproducible():
    a = random_split(range(20), [10, 10], generator=ember.Generator().manual_seed(4))
    b = random_split(range(20), [10, 10], generator=ember.Generator().manual_seed(4))
    assert a[0].indices == b[0].indices and a[0].indices != list(range(10))
    ember.manual_seed(2)
    c = random_split(range(20), [10, 10])
    ember.manual_seed(2)
    assert random_split(range(20), [10, 10])[1].indices == c[1].indices


@pytest.mark.parametrize("lengths,message", [
    ([3, 3], "Sum of input lengths does not equal the length of the input dataset.*sum to 6"),
    ([0.5, 0.4], "integers or fractions summing to 1, got 0.5"),
    ([1.5, -0.5], "Fraction at index 0 is not between 0 and 1"),
    ([-1, 11], "non-negative integers"),
    ([2.5, 7.5], "non-negative integers"),
])
def test_random_split_errors(lengths, message):
    with pytest.raises(ValueError, match=message):
        random_split(range(10), lengths)
