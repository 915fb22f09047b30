"""LBFGS against torch.optim.LBFGS: the same parameters, losses and evaluation counts after each
step(closure) on the same model and data, with and without the strong-Wolfe line search, for
each option; state_dict round trip; errors."""
import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim as optim
from ember.optim.strong_wolfe import cubic_minimizer

torch = pytest.importorskip("torch")

CONFIGS = [
    dict(),
    dict(lr=0.5, max_iter=5),
    dict(lr=0.8, max_iter=7, max_eval=9, history_size=3),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", max_iter=10, history_size=4, lr=0.9),
    dict(line_search_fn="strong_wolfe", max_iter=4, max_eval=6),
    # Steps far too short (the search extrapolates) and far too long (it zooms in), and a
    # search cut short by max_eval.
    dict(line_search_fn="strong_wolfe", lr=0.01, max_iter=8),
    dict(line_search_fn="strong_wolfe", lr=30.0, max_iter=8),
    dict(line_search_fn="strong_wolfe", lr=0.001, max_iter=3, max_eval=3),
    dict(tolerance_grad=1e-3, tolerance_change=1e-4, max_iter=30),
    dict(line_search_fn="strong_wolfe", tolerance_grad=1e-5, tolerance_change=1e-6),
]


def _ids(kw):
    return "-".join(f"{k}={v}" for k, v in kw.items()) or "defaults"


def _models(seed=0):
    torch.manual_seed(seed)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(),
                                 torch.nn.Linear(6, 1)).double()
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    return model, tmodel


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 3))
    y = np.sin(x @ np.array([[1.0], [-2.0], [0.5]]))
    return x, y


def _closures(model, tmodel, opt, topt, calls):
    x, y = _data()
    ex, ey = ember.from_numpy(x), ember.from_numpy(y)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def closure():
        calls[0] += 1
        opt.zero_grad()
        loss = nn.MSELoss()(model(ex), ey)
        loss.backward()
        return loss

    def tclosure():
        calls[1] += 1
        topt.zero_grad()
        loss = torch.nn.MSELoss()(tmodel(tx), ty)
        loss.backward()
        return loss

    return closure, tclosure


def _assert_params(model, tmodel, msg):
    for p, q in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-9,
                                   err_msg=msg)


@pytest.mark.parametrize("kw", CONFIGS, ids=_ids)
def test_trajectory_matches_torch(kw):
    model, tmodel = _models()
    opt = optim.LBFGS(model.parameters(), **kw)
    topt = torch.optim.LBFGS(tmodel.parameters(), **kw)
    calls = [0, 0]
    closure, tclosure = _closures(model, tmodel, opt, topt, calls)
    losses = []
    # Up to 80 iterations: the last digits of the dot products (NumPy's and PyTorch's sum in
    # different orders) are amplified ~10x per 20 iterations as the curvature pairs shrink.
    for step in range(4):
        loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert isinstance(loss, ember.Tensor)
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-6)
        assert calls[0] == calls[1], f"step {step}: closure calls"
        _assert_params(model, tmodel, f"step {step}")
        st, tst = opt.state[opt.param_groups[0]["params"][0]], topt.state[tmodel[0].weight]
        assert (st["func_evals"], st["n_iter"]) == (tst["func_evals"], tst["n_iter"])
        assert len(st["old_dirs"]) == len(tst["old_dirs"])
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_state_dict_round_trip_continues_identically():
    kw = dict(line_search_fn="strong_wolfe", max_iter=5, history_size=6)
    model, tmodel = _models()
    opt = optim.LBFGS(model.parameters(), **kw)
    topt = torch.optim.LBFGS(tmodel.parameters(), **kw)
    calls = [0, 0]
    closure, tclosure = _closures(model, tmodel, opt, topt, calls)
    for _ in range(2):
        opt.step(closure)
        topt.step(tclosure)
    # A fresh optimizer over a copy of the model, from the saved state, goes on as torch does.
    model2 = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    model2.load_state_dict(model.state_dict())
    opt2 = optim.LBFGS(model2.parameters(), lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["lr"] == 1
    closure2, _ = _closures(model2, tmodel, opt2, topt, calls)
    for step in range(3):
        opt2.step(closure2)
        topt.step(tclosure)
        _assert_params(model2, tmodel, f"resumed step {step}")


def test_one_parameter_group_only_and_closure_required():
    model, _ = _models()
    params = list(model.parameters())
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": params[:2]}, {"params": params[2:]}])
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.LBFGS(params, lr=-1)
    opt = optim.LBFGS(params)
    with pytest.raises(TypeError):
        opt.step()
    with pytest.raises(RuntimeError, match="requires a closure"):
        opt.step(None)
    opt = optim.LBFGS(params, line_search_fn="backtracking")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(lambda: ember.tensor(1.0))


def test_defaults_match_torch():
    model, tmodel = _models()
    opt, topt = optim.LBFGS(model.parameters()), torch.optim.LBFGS(tmodel.parameters())
    assert opt.defaults == topt.defaults
    assert opt.defaults["max_eval"] == 25


def test_stops_at_once_when_the_gradient_is_below_tolerance_grad():
    p = nn.Parameter(ember.tensor([0.0, 0.0], dtype=ember.float64))
    opt = optim.LBFGS([p])

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 0.0
    assert opt.state[p]["func_evals"] == 1 and opt.state[p]["n_iter"] == 0


def test_minimizes_rosenbrock_like_torch():
    """The classic test problem; strong-Wolfe LBFGS reaches (1, 1) as PyTorch's does."""
    def run(lib, p):
        opt = lib.optim.LBFGS([p], line_search_fn="strong_wolfe", max_iter=100)

        def closure():
            opt.zero_grad()
            loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
            loss.backward()
            return loss
        for _ in range(3):
            opt.step(closure)
        return p.detach().numpy()

    ours = run(ember, nn.Parameter(ember.tensor([-1.5, 2.0], dtype=ember.float64)))
    theirs = run(torch, torch.nn.Parameter(torch.tensor([-1.5, 2.0], dtype=torch.float64)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours, [1.0, 1.0], atol=1e-4)


@pytest.mark.parametrize("args, expected", [
    ((0.0, 1.0, -1.0, 1.0, 0.5, 2.0), None),           # a cubic with a minimum inside
    ((1.0, 0.5, 2.0, 0.0, 1.0, -1.0), None),           # the same, x1 > x2
    ((0.0, 0.0, 2.0, 1.0, 1.0, 2.0), 0.5),             # no real minimizer: the midpoint
])
def test_cubic_minimizer(args, expected):
    x1, f1, g1, x2, f2, g2 = args
    t = cubic_minimizer(*args)
    if expected is not None:
        assert t == expected
        return
    # The cubic through both points with both slopes, minimized on a fine grid.
    a = np.array([[x1 ** 3, x1 ** 2, x1, 1], [x2 ** 3, x2 ** 2, x2, 1],
                  [3 * x1 ** 2, 2 * x1, 1, 0], [3 * x2 ** 2, 2 * x2, 1, 0]])
    c = np.linalg.solve(a, [f1, f2, g1, g2])
    grid = np.linspace(min(x1, x2), max(x1, x2), 200001)
    assert t == pytest.approx(grid[np.argmin(np.polyval(c, grid))], abs=1e-4)


def _wiggly(k):
    """A non-convex function of a vector and its gradient: many local minima along a line."""
    def f(x):
        return (float(np.sum(np.sin(k * x) + 0.1 * x ** 2 + 0.05 * x ** 4)),
                k * np.cos(k * x) + 0.2 * x + 0.2 * x ** 3)
    return f


@pytest.mark.parametrize("k", [3, 10])
@pytest.mark.parametrize("t0", [1e-3, 0.05, 0.3, 1.0, 4.0, 25.0])
@pytest.mark.parametrize("start", [-3.0, -2.0, 0.0, 0.7])
def test_strong_wolfe_matches_torch_line_search(k, t0, start):
    """The line search alone, against PyTorch's, from short to very long first steps on
    non-convex functions (extrapolation, zooming, insufficient progress, max_ls and
    tolerance_change cutting it short)."""
    from torch.optim.lbfgs import _strong_wolfe
    from ember.optim.strong_wolfe import strong_wolfe

    fn = _wiggly(k)
    x = np.array([start, start + 0.3, start - 0.4])
    f, g = fn(x)
    d = -g
    gtd = float(g.dot(d))

    def tobj(x_, t, d_):
        fv, gv = fn(x_.numpy() + float(t) * d_.numpy())
        return fv, torch.from_numpy(gv)

    for max_ls, tolerance_change in ((25, 1e-9), (3, 1e-9), (25, 10.0)):
        ours = strong_wolfe(lambda t: fn(x + t * d), t0, d, f, g, gtd, max_ls=max_ls,
                            tolerance_change=tolerance_change)
        theirs = _strong_wolfe(tobj, torch.from_numpy(x), t0, torch.from_numpy(d), f,
                               torch.from_numpy(g), torch.tensor(gtd, dtype=torch.float64),
                               max_ls=max_ls, tolerance_change=tolerance_change)
        assert ours[0] == pytest.approx(float(theirs[0]), rel=1e-12)
        assert ours[2] == pytest.approx(float(theirs[2]), rel=1e-12)
        assert ours[3] == theirs[3]
        # (k * cos(k * x) turns last-bit differences of t into ~1e-12 of the gradient)
        np.testing.assert_allclose(ours[1], theirs[1].numpy(), rtol=1e-9)


def _sine_model(lib, hidden):
    nn_ = lib.nn

    class Sequence(nn_.Module):
        """pytorch/examples' time-sequence prediction model, smaller."""

        def __init__(self):
            super().__init__()
            self.lstm1 = nn_.LSTMCell(1, hidden)
            self.lstm2 = nn_.LSTMCell(hidden, hidden)
            self.linear = nn_.Linear(hidden, 1)

        def forward(self, input):
            h_t = c_t = h_t2 = c_t2 = lib.zeros(input.size(0), hidden, dtype=lib.double)
            outputs = []
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                outputs += [self.linear(h_t2)]
            return lib.cat(outputs, dim=1)

    return Sequence().double()


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_time_sequence_prediction_example_matches_torch(line_search_fn):
    """LBFGS through LSTMCells, as pytorch/examples/time_sequence_prediction trains."""
    x = np.arange(16) + np.array([[-3], [5], [11]])
    data = np.sin(x / 4.0)
    tmodel = _sine_model(torch, 6)
    model = _sine_model(ember, 6)
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    opt = optim.LBFGS(model.parameters(), lr=0.8, max_iter=6, line_search_fn=line_search_fn)
    topt = torch.optim.LBFGS(tmodel.parameters(), lr=0.8, max_iter=6,
                             line_search_fn=line_search_fn)
    for _ in range(2):
        def closure():
            opt.zero_grad()
            loss = nn.MSELoss()(model(ember.from_numpy(data[:, :-1])),
                                ember.from_numpy(data[:, 1:]))
            loss.backward()
            return loss

        def tclosure():
            topt.zero_grad()
            loss = torch.nn.MSELoss()(tmodel(torch.from_numpy(data[:, :-1])),
                                      torch.from_numpy(data[:, 1:]))
            loss.backward()
            return loss

        loss, tloss = opt.step(closure), topt.step(tclosure)
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-6)
    _assert_params(model, tmodel, "after two steps")


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_float32_parameters_stay_float32_and_follow_torch(line_search_fn):
    """In float32 the sums round differently from PyTorch's, so the two drift apart by about
    float32's precision per iteration; ten iterations stay within 1e-4."""
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1))
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))
    model.load_state_dict({k: v.detach().numpy() for k, v in tmodel.state_dict().items()})
    opt = optim.LBFGS(model.parameters(), max_iter=10, line_search_fn=line_search_fn)
    topt = torch.optim.LBFGS(tmodel.parameters(), max_iter=10, line_search_fn=line_search_fn)
    x, y = (a.astype(np.float32) for a in _data())

    def closure():
        opt.zero_grad()
        loss = nn.MSELoss()(model(ember.from_numpy(x)), ember.from_numpy(y))
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = torch.nn.MSELoss()(tmodel(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        return loss

    opt.step(closure)
    topt.step(tclosure)
    for p, q in zip(model.parameters(), tmodel.parameters()):
        assert p.dtype == ember.float32
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), atol=1e-4)
    assert opt.state[model[0].weight]["d"].dtype == ember.float32
