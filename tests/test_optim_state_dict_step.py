"""load_state_dict checks 'step': a value every later step() would fail on is refused, and the
optimizer keeps its state."""
import numpy as np
import pytest

import ember


def _adam_after_one_step():
    p = ember.nn.Parameter(ember.tensor(np.array([1.0, -2.0, 3.0], np.float32)))
    opt = ember.optim.Adam([p], lr=0.1)
    p.grad = ember.ones(3)
    opt.step()
    return p, opt


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "x", None, True, [1]])
def test_a_bad_step_is_refused_and_the_state_kept(bad):
    p, opt = _adam_after_one_step()
    saved = opt.state_dict()
    saved["state"][0]["step"] = bad
    with pytest.raises(ValueError, match="load_state_dict: 'step' must be a finite non-negative"):
        opt.load_state_dict(saved)
    assert float(opt.state_dict()["state"][0]["step"]) == 1.0
    p.grad = ember.ones(3)
    opt.step()
    assert float(opt.state_dict()["state"][0]["step"]) == 2.0


@pytest.mark.parametrize("good", [3, 3.0, np.float64(3.0), np.array(3.0)])
def test_a_plain_number_step_loads_as_the_tensor_step_keeps(good):
    p, opt = _adam_after_one_step()
    saved = opt.state_dict()
    saved["state"][0]["step"] = good
    opt.load_state_dict(saved)
    p.grad = ember.ones(3)
    opt.step()
    assert float(opt.state_dict()["state"][0]["step"]) == 4.0
