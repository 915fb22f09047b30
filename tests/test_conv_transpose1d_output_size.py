"""nn.ConvTranspose1d's forward(output_size=...): the output_padding PyTorch picks for each
reachable length (with stride, padding and dilation), and the error for the others."""
import numpy as np
import pytest

import ember
import ember.nn as nn
from ember.testing import assert_close


@pytest.mark.parametrize("size", [(15,), [16], (17,), [2, 3, 15]])
def test_output_size_matches_torch(size):
    torch = pytest.importorskip("torch")
    tm = torch.nn.ConvTranspose1d(3, 2, 3, stride=3, padding=1, dilation=2).double()
    em = nn.ConvTranspose1d(3, 2, 3, stride=3, padding=1, dilation=2, dtype=ember.float64)
    em.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    want = tm(torch.tensor(x), output_size=size).detach().numpy()
    got = em(ember.tensor(x), output_size=size)
    assert tuple(got.shape) == want.shape == (2, 2, size[-1])
    assert_close(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("size", [(14,), (18,)])
def test_unreachable_output_size_names_the_range(size):
    em = nn.ConvTranspose1d(3, 2, 3, stride=3, padding=1, dilation=2)
    with pytest.raises(ValueError, match=rf"ConvTranspose1d: requested an output size of "
                                         rf"\[{size[0]}\], but valid sizes range from 15 to 17"):
        em(ember.zeros(2, 3, 5), output_size=size)
