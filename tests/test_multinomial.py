"""ember.multinomial / Tensor.multinomial: shapes and dtype as PyTorch, reproducible under
ember.manual_seed and with a Generator, sample frequencies that match the distribution (with
and without replacement; tolerances a wrong sampler fails), and PyTorch's errors."""
import numpy as np
import pytest

import ember

P = np.array([0.1, 0.2, 0.3, 0.4])
N = 40000


def test_shapes_and_dtype_match_pytorch():
    torch = pytest.importorskip("torch")
    for make in (lambda m: m.multinomial(m.tensor([1.0, 2.0, 3.0]), 2),
                 lambda m: m.multinomial(m.tensor([[1.0, 2.0], [3.0, 1.0]]), 5, True),
                 lambda m: m.tensor([[1.0, 2.0, 0.5]]).multinomial(3),
                 lambda m: m.ones(4, dtype=m.float64).multinomial(num_samples=1,
                                                                  replacement=True)):
        ours, theirs = make(ember), make(torch)
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == ember.int64


def test_seeded_runs_repeat_and_generators_are_independent():
    w = ember.tensor([[0.5, 1.0, 2.0, 0.1], [1.0, 1.0, 1.0, 1.0]])
    ember.manual_seed(7)
    first = [ember.multinomial(w, 3).tolist(), w.multinomial(10, True).tolist()]
    ember.manual_seed(7)
    assert [ember.multinomial(w, 3).tolist(), w.multinomial(10, True).tolist()] == first
    g1, g2 = ember.Generator().manual_seed(1), ember.Generator().manual_seed(1)
    a = ember.multinomial(w, 50, True, generator=g1).tolist()
    ember.rand(5)  # the default stream moving does not touch a private generator
    assert ember.multinomial(w, 50, True, generator=g2).tolist() == a


def test_with_replacement_frequencies_follow_the_weights():
    ember.manual_seed(0)
    draws = ember.multinomial(ember.tensor(P * 7.0), N, replacement=True).numpy()
    freq = np.bincount(draws, minlength=4) / N
    np.testing.assert_allclose(freq, P, atol=0.01)


def test_rows_are_sampled_from_their_own_weights():
    ember.manual_seed(1)
    w = ember.tensor([[0.0, 1.0, 0.0], [3.0, 0.0, 1.0]])
    draws = ember.multinomial(w, N // 4, replacement=True).numpy()
    assert (draws[0] == 1).all()
    assert set(np.unique(draws[1])) == {0, 2}
    assert abs(np.mean(draws[1] == 0) - 0.75) < 0.02


def test_without_replacement_draws_distinct_categories_sequentially():
    ember.manual_seed(2)
    rows = ember.tensor(np.tile(P, (N // 4, 1)))
    draws = ember.multinomial(rows, 2).numpy()
    assert (draws[:, 0] != draws[:, 1]).all()
    # First draw ~ P; second draw j: sum over i != j of P_i * P_j / (1 - P_i).
    second = np.array([sum(P[i] * P[j] / (1 - P[i]) for i in range(4) if i != j)
                       for j in range(4)])
    np.testing.assert_allclose(np.bincount(draws[:, 0], minlength=4) / len(draws), P, atol=0.015)
    np.testing.assert_allclose(np.bincount(draws[:, 1], minlength=4) / len(draws), second,
                               atol=0.015)
    full = ember.multinomial(ember.tensor([1.0, 5.0, 2.0]), 3).tolist()
    assert sorted(full) == [0, 1, 2]


def test_zero_weights_are_never_drawn_while_others_remain():
    ember.manual_seed(3)
    draws = ember.multinomial(ember.tensor([0.0, 2.0, 0.0, 1.0]), 2).numpy()
    assert sorted(draws.tolist()) == [1, 3]
    many = ember.multinomial(ember.tensor([0.0, 1.0, 0.0, 1e-9]), 1000, True).numpy()
    assert not np.isin(many, [0, 2]).any()


@pytest.mark.parametrize("weights, num, replacement, message", [
    ([1.0, -1.0, 0.0], 1, False, "contains either `inf`, `nan` or element < 0"),
    ([1.0, float("nan")], 1, True, "contains either `inf`, `nan` or element < 0"),
    ([1.0, float("inf")], 1, True, "contains either `inf`, `nan` or element < 0"),
    ([0.0, 0.0, 0.0], 2, True, r"sum of probabilities <= 0"),
    ([1.0, 2.0], 3, False, r"cannot sample n_sample > prob_dist.size\(-1\)"),
    ([1.0, 2.0], 0, True, "cannot sample n_sample <= 0"),
    ([[[1.0]]], 1, True, "prob_dist must be 1 or 2 dim"),
    ([1, 2], 1, True, "floating-point dtypes"),
])
def test_bad_input_raises_like_pytorch(weights, num, replacement, message):
    with pytest.raises(RuntimeError, match=message):
        ember.multinomial(ember.tensor(weights), num, replacement)
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), num, replacement)
