"""L-BFGS (Nocedal, 1980) over all parameters as one flat vector, as PyTorch 2.x's LBFGS:
step(closure) runs up to max_iter iterations (max_eval closure calls), with a fixed step lr or
the strong-Wolfe line search; the curvature history lives in the optimizer state."""
from __future__ import annotations

import numpy as np

from .. import autograd
from ..tensor import Tensor
from ._numpy_update import check_nonnegative, param_array
from .optimizer import Optimizer
from .strong_wolfe import strong_wolfe

# State entries that are flat vectors (kept as ember Tensors so state_dict copies them).
_VECTORS = ("d", "prev_flat_grad")
_VECTOR_LISTS = ("old_dirs", "old_stps")


class LBFGS(Optimizer):
    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None):
        check_nonnegative(lr=lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    def _gather_flat_grad(self) -> np.ndarray:
        return np.concatenate([np.zeros(p._array.size, p._array.dtype) if p.grad is None
                               else p.grad._array.reshape(-1) for p in self._params])

    def _add_grad(self, step_size: float, update: np.ndarray) -> None:
        offset = 0
        for p in self._params:
            arr = param_array(p)
            arr += step_size * update[offset:offset + arr.size].reshape(arr.shape)
            offset += arr.size

    def _evaluate(self, closure) -> float:
        with autograd.enable_grad():
            return float(closure())

    def _directional_evaluate(self, closure, x: list, t: float, d: np.ndarray):
        """Loss and flat gradient at x + t * d; the parameters are put back to x after."""
        self._add_grad(t, d)
        loss = self._evaluate(closure)
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            param_array(p)[...] = saved
        return loss, flat_grad

    def step(self, closure):
        """One optimization step of up to max_iter iterations; closure() must clear the
        gradients, compute the loss, call backward() and return the loss."""
        if closure is None:
            raise RuntimeError("LBFGS.step requires a closure that reevaluates the model and "
                               "returns the loss")
        group = self.param_groups[0]
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with autograd.enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return orig_loss

        d, prev_flat_grad = (_array(state.get(k)) for k in _VECTORS)
        old_dirs, old_stps = ([_array(v) for v in state.get(k) or []] for k in _VECTOR_LISTS)
        t, h_diag = (_scalar(state.get(k)) for k in ("t", "H_diag"))
        ro = [float(v) for v in state.get("ro") or []]
        prev_loss = state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y.dot(s))
                if ys > 1e-10:  # keep only pairs of positive curvature
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / float(y.dot(y))
                d = _two_loop_direction(flat_grad, old_dirs, old_stps, ro, h_diag)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))
            if gtd > -tolerance_change:  # not a descent direction
                break

            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                x_init = [param_array(p).copy() for p in self._params]
                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    lambda step: self._directional_evaluate(closure, x_init, step, d),
                    t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = np.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = self._evaluate(closure)
                    flat_grad = self._gather_flat_grad()
                    opt_cond = np.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if (n_iter == max_iter or current_evals >= max_eval or opt_cond
                    or np.abs(d * t).max() <= tolerance_change
                    or abs(loss - prev_loss) < tolerance_change):
                break

        state["d"], state["prev_flat_grad"] = _tensor(d), _tensor(prev_flat_grad)
        state["old_dirs"] = [_tensor(v) for v in old_dirs]
        state["old_stps"] = [_tensor(v) for v in old_stps]
        state["t"], state["ro"], state["H_diag"] = t, ro, h_diag
        state["prev_loss"] = prev_loss
        return orig_loss


def _two_loop_direction(flat_grad, old_dirs, old_stps, ro, h_diag) -> np.ndarray:
    """The L-BFGS two-loop recursion: -H @ flat_grad for the inverse Hessian approximation H
    built from the (s, y) pairs, starting from h_diag * I."""
    num_old = len(old_dirs)
    al = [0.0] * num_old
    q = -flat_grad
    for i in range(num_old - 1, -1, -1):
        al[i] = float(old_stps[i].dot(q)) * ro[i]
        q = q - al[i] * old_dirs[i]
    r = q * h_diag
    for i in range(num_old):
        be_i = float(old_dirs[i].dot(r)) * ro[i]
        r = r + (al[i] - be_i) * old_stps[i]
    return r


def _array(value):
    if value is None or isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value._array.copy()
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value).copy()


def _scalar(value):
    return None if value is None else float(value)


def _tensor(value):
    return None if value is None else Tensor._from_op(np.array(value, copy=True), None)
