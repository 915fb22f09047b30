"""DistributedSampler: PyTorch's split of the indices over ranks (padding, drop_last), a
shuffle that is the same permutation on every rank and changes with set_epoch."""
import numpy as np
import pytest

from ember.utils.data import DistributedSampler
from ember.utils.data.distributed import split_for_rank

SIZES = [0, 1, 2, 5, 10, 11, 13]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_split_is_pytorchs(n, replicas, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
        theirs = torch_data.DistributedSampler(range(n), replicas, rank, shuffle=False,
                                               drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == ours.num_samples
        assert ours.total_size == theirs.total_size


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_split_is_pytorchs_split_of_the_permutation(n, drop_last):
    """PyTorch's randperm stream is not ember's; the split of whatever permutation is drawn
    must be PyTorch's: torch's sampler over a dataset ordered by our permutation agrees."""
    torch_data = pytest.importorskip("torch.utils.data")
    replicas = 3
    full = DistributedSampler(range(n), 1, 0, shuffle=True, seed=4, drop_last=False)
    full.set_epoch(2)
    permutation = list(full)  # one replica: the permutation itself
    assert sorted(permutation) == list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(range(n), replicas, rank, seed=4, drop_last=drop_last)
        ours.set_epoch(2)
        theirs = torch_data.DistributedSampler(permutation, replicas, rank, shuffle=False,
                                               drop_last=drop_last)
        assert list(ours) == [permutation[i] for i in theirs]


def test_ranks_cover_the_dataset_and_epochs_reshuffle():
    samplers = [DistributedSampler(range(20), 4, r, seed=1) for r in range(4)]
    epoch0 = [list(s) for s in samplers]
    assert sorted(sum(epoch0, [])) == list(range(20))
    for s in samplers:
        s.set_epoch(1)
    epoch1 = [list(s) for s in samplers]
    assert sorted(sum(epoch1, [])) == list(range(20))
    assert epoch0 != epoch1
    assert [list(s) for s in samplers] == epoch1  # the same epoch gives the same order
    assert list(DistributedSampler(range(20), 4, 0, seed=2)) != epoch0[0]


def test_padding_repeats_from_the_start_when_the_dataset_is_short():
    assert split_for_rank([7], 4, 4, 3, False) == [7]
    assert [list(DistributedSampler(range(2), 5, r, shuffle=False)) for r in range(5)] == \
        [[0], [1], [0], [1], [0]]


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval "
                                         r"\[0, 1\]"):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="Invalid rank -1"):
        DistributedSampler(range(4), 2, -1)
    with pytest.raises(ValueError, match="num_replicas must be at least 1"):
        DistributedSampler(range(4), 0, 0)
    with pytest.raises(TypeError, match="num_replicas must be an int"):
        DistributedSampler(range(4), 2.0, 0)
    with pytest.raises(ValueError, match="init_process_group"):
        DistributedSampler(range(4))  # no process group to take the world size from


def test_default_samplers_differ_by_rank_only_in_their_share():
    a = np.array([list(DistributedSampler(range(9), 3, r, seed=5)) for r in range(3)])
    assert a.shape == (3, 3) and len(set(a.ravel())) == 9
