"""RNN, LSTM and GRU on PackedSequence input: each sequence gives what it gives alone, outputs
and final states match PyTorch's on the same weights and lengths (forward and gradients), float64
gradients through pack -> module -> pad match finite differences, and bad states are named."""
import itertools

import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.nn.utils.rnn import (PackedSequence, pack_padded_sequence, pack_sequence,
                                pad_packed_sequence)
from ember.testing import assert_close, gradcheck

LENGTHS = [3, 5, 1, 5, 2]
CASES = list(itertools.product(["RNN", "LSTM", "GRU"], [1, 2], [False, True]))


def make(kind, layers, bidirectional, batch_first=False, seed=0):
    ember.manual_seed(seed)
    return getattr(nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional,
                             batch_first=batch_first).double()


def final_states(kind, state):
    return state if kind == "LSTM" else (state,)


@pytest.mark.parametrize("kind, layers, bidirectional", CASES)
def test_each_sequence_gives_what_it_gives_alone(kind, layers, bidirectional):
    module = make(kind, layers, bidirectional)
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 3)) for n in LENGTHS]
    out, state = module(pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False))
    assert isinstance(out, PackedSequence)
    padded, lengths = pad_packed_sequence(out)
    assert lengths.tolist() == LENGTHS
    directions = 2 if bidirectional else 1
    for b, s in enumerate(seqs):
        alone_out, alone_state = module(ember.tensor(s))  # unbatched: the unpacked kernel path
        assert_close(padded[:len(s), b], alone_out.detach(), rtol=1e-12, atol=1e-12)
        assert_close(padded[len(s):, b], np.zeros((5 - len(s), 4 * directions)))
        for got, want in zip(final_states(kind, state), final_states(kind, alone_state)):
            assert got.shape == (layers * directions, len(seqs), 4)
            assert_close(got[:, b], want.detach(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind, layers, bidirectional", CASES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_matches_pytorch_with_initial_states_and_gradients(kind, layers, bidirectional,
                                                           batch_first):
    torch = pytest.importorskip("torch")
    module = make(kind, layers, bidirectional, batch_first).float()
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=layers, bidirectional=bidirectional,
                                     batch_first=batch_first)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 5, 3) if batch_first else (5, 5, 3)).astype(np.float32)
    directions = 2 if bidirectional else 1
    h0 = [rng.standard_normal((layers * directions, 5, 4)).astype(np.float32)
          for _ in range(2 if kind == "LSTM" else 1)]
    xe = ember.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    he = [ember.tensor(h, requires_grad=True) for h in h0]
    ht = [torch.tensor(h, requires_grad=True) for h in h0]
    pe = pack_padded_sequence(xe, LENGTHS, batch_first, enforce_sorted=False)
    pt = torch.nn.utils.rnn.pack_padded_sequence(xt, LENGTHS, batch_first, enforce_sorted=False)
    oe, se = module(pe, tuple(he) if kind == "LSTM" else he[0])
    ot, st = theirs(pt, tuple(ht) if kind == "LSTM" else ht[0])
    assert_close(oe.data, ot.data.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert oe.batch_sizes.tolist() == ot.batch_sizes.tolist()
    assert oe.sorted_indices.tolist() == ot.sorted_indices.tolist()
    se, st = final_states(kind, se), final_states(kind, st)
    for a, b in zip(se, st):
        assert_close(a, b.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(tuple(oe.data.shape)).astype(np.float32)
    loss_e = (oe.data * ember.tensor(g)).sum() + sum((s * s).sum() for s in se)
    loss_t = (ot.data * torch.tensor(g)).sum() + sum((s * s).sum() for s in st)
    loss_e.backward()
    loss_t.backward()
    assert_close(xe.grad, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    for a, b in zip(he, ht):
        assert_close(a.grad, b.grad.numpy(), rtol=1e-4, atol=1e-5)
    for name, p in module.named_parameters():
        assert_close(p.grad, getattr(theirs, name).grad.numpy(), rtol=1e-4, atol=1e-4,
                     msg=name)


@pytest.mark.parametrize("kind, layers, bidirectional",
                         [("LSTM", 1, False), ("LSTM", 2, True), ("GRU", 1, True),
                          ("RNN", 2, False)])
def test_gradients_through_pack_module_pad_match_finite_differences(kind, layers,
                                                                   bidirectional):
    module = make(kind, layers, bidirectional)
    names = [name for name, _ in module.named_parameters()]
    rng = np.random.default_rng(3)
    lengths = [3, 1, 2]
    x = ember.tensor(rng.standard_normal((3, 3, 3)), requires_grad=True)
    directions = 2 if bidirectional else 1
    h0 = ember.tensor(rng.standard_normal((layers * directions, 3, 4)), requires_grad=True)
    params = [ember.tensor(p.detach().numpy().copy(), requires_grad=True)
              for p in module.parameters()]

    def f(x, h0, *params):
        for name, p in zip(names, params):
            module._parameters[name] = p
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, state = module(packed, (h0, h0 * 0.5) if kind == "LSTM" else h0)
        padded, _ = pad_packed_sequence(out)
        return (padded,) + tuple(final_states(kind, state))
    assert gradcheck(f, (x, h0, *params))


def test_batch_first_module_reads_packed_data_the_same_way():
    # A PackedSequence is time-major whatever the module's batch_first.
    seqs = [ember.randn(n, 3, dtype=ember.float64) for n in (4, 2)]
    packed = pack_sequence(seqs)
    a, b = make("GRU", 1, True, False), make("GRU", 1, True, True)
    assert_close(a(packed)[0].data, b(packed)[0].data.detach())


def test_bad_packed_input_and_states_are_named():
    module = make("LSTM", 2, False)
    packed = pack_sequence([ember.randn(3, 3, dtype=ember.float64),
                            ember.randn(2, 3, dtype=ember.float64)])
    h = ember.zeros(2, 3, 4, dtype=ember.float64)
    with pytest.raises(ValueError, match=r"Expected hidden\[0\] size \(2, 2, 4\), got \[2, 3, 4\]"):
        module(packed, (h, h))
    wide = pack_sequence([ember.randn(3, 5, dtype=ember.float64)])
    with pytest.raises(ValueError, match=r"LSTM: packed input data must have shape \(steps, 3\)"):
        module(wide)
    with pytest.raises(ValueError, match="input dtype"):
        module(packed.float())


def test_inference_without_autograd_gives_the_same_packed_output():
    module = make("LSTM", 2, True)
    packed = pack_sequence([ember.randn(n, 3, dtype=ember.float64) for n in (2, 4, 1)],
                           enforce_sorted=False)
    out, (h, c) = module(packed)
    with ember.no_grad():
        out_ng, (h_ng, c_ng) = module(packed)
    assert not out_ng.data.requires_grad
    for a, b in ((out.data, out_ng.data), (h, h_ng), (c, c_ng)):
        assert_close(b, a.detach(), rtol=1e-12, atol=1e-12)


def test_packed_training_with_dropout_between_layers_learns():
    ember.manual_seed(0)
    module = nn.GRU(3, 8, num_layers=2, dropout=0.2)
    head = nn.Linear(8, 1)
    opt = ember.optim.Adam(list(module.parameters()) + list(head.parameters()), lr=0.02)
    rng = np.random.default_rng(4)
    lengths = [6, 3, 5, 2, 4, 6, 1, 3]
    x = rng.standard_normal((6, 8, 3)).astype(np.float32)
    target = np.array([x[:n, b, 0].sum() for b, n in enumerate(lengths)], np.float32)[:, None]
    losses = []
    for _ in range(60):
        packed = pack_padded_sequence(ember.tensor(x), lengths, enforce_sorted=False)
        _, h = module(packed)
        loss = ((head(h[-1]) - ember.tensor(target)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_same_result_with_one_and_two_threads(restore_threads):
    module = make("LSTM", 2, True)
    packed = pack_sequence([ember.randn(n, 3, dtype=ember.float64) for n in (5, 2, 4, 1)],
                           enforce_sorted=False)
    results = []
    for threads in (1, 2):
        ember.set_num_threads(threads)
        out, (h, c) = module(packed)
        (out.data.sum() + h.sum()).backward()
        results.append([out.data.detach().numpy(), h.detach().numpy(), c.detach().numpy()]
                       + [p.grad.numpy().copy() for p in module.parameters()])
        module.zero_grad()
    for a, b in zip(*results):
        assert_close(a, b, rtol=1e-12, atol=1e-12)
