"""The strong-Wolfe line search LBFGS uses (Nocedal & Wright, Numerical Optimization, 2nd ed.,
algorithms 3.5 and 3.6: bracketing, then zooming by cubic interpolation), making the same
choices as PyTorch's, so that LBFGS trajectories agree with it."""
from __future__ import annotations

import math

import numpy as np


def cubic_minimizer(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimizer of the cubic through (x1, f1, g1) and (x2, f2, g2), clipped to bounds
    (default: the interval between x1 and x2); the midpoint when the cubic has none."""
    lo, hi = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, lo), hi)


class _Bracket:
    """Two trial steps with their loss, flat gradient and directional derivative."""

    def __init__(self, points):
        self.t = [p[0] for p in points]
        self.f = [p[1] for p in points]
        self.g = [p[2] for p in points]
        self.gtd = [p[3] for p in points]

    def set(self, i, point) -> None:
        self.t[i], self.f[i], self.g[i], self.gtd[i] = point

    def get(self, i):
        return self.t[i], self.f[i], self.g[i], self.gtd[i]

    def low_high(self):
        return (0, 1) if self.f[0] <= self.f[-1] else (1, 0)


def strong_wolfe(evaluate, t: float, d: np.ndarray, f: float, g: np.ndarray, gtd: float,
                 c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                 max_ls: int = 25):
    """Searches a step t along d from loss f, gradient g (gtd = g . d < 0).

    evaluate(t) returns (loss, flat gradient) at x + t * d. Returns (loss, flat gradient,
    t, number of evaluations) at the step found.
    """
    d_norm = float(np.abs(d).max())
    g = g.copy()
    f_new, g_new = evaluate(t)
    evals = 1
    gtd_new = float(g_new.dot(d))
    prev = (0, f, g, gtd)
    bracket = None
    done = False
    ls_iter = 0
    # Bracketing: grow t until an interval surely holds a point meeting the conditions.
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = _Bracket([prev, (t, f_new, g_new.copy(), gtd_new)])
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket = _Bracket([(t, f_new, g_new, gtd_new)])
            done = True
            break
        if gtd_new >= 0:
            bracket = _Bracket([prev, (t, f_new, g_new.copy(), gtd_new)])
            break
        min_step = t + 0.01 * (t - prev[0])
        max_step = t * 10
        t_next = cubic_minimizer(prev[0], prev[1], prev[3], t, f_new, gtd_new,
                                 bounds=(min_step, max_step))
        prev = (t, f_new, g_new.copy(), gtd_new)
        t = t_next
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket = _Bracket([(0, f, g, None), (t, f_new, g_new, None)])

    # Zoom: shrink the bracket by cubic interpolation until the conditions hold.
    insufficient_progress = False
    low, high = bracket.low_high()
    while not done and ls_iter < max_ls:
        if abs(bracket.t[1] - bracket.t[0]) * d_norm < tolerance_change:
            break
        t = cubic_minimizer(bracket.t[0], bracket.f[0], bracket.gtd[0],
                            bracket.t[1], bracket.f[1], bracket.gtd[1])
        # Keep t away from the ends of the bracket (a tenth of its width).
        t_max, t_min = max(bracket.t), min(bracket.t)
        eps = 0.1 * (t_max - t_min)
        if min(t_max - t, t - t_min) < eps:
            if insufficient_progress or t >= t_max or t <= t_min:
                t = t_max - eps if abs(t - t_max) < abs(t - t_min) else t_min + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket.f[low]:
            bracket.set(high, (t, f_new, g_new.copy(), gtd_new))
            low, high = bracket.low_high()
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket.t[high] - bracket.t[low]) >= 0:
                bracket.set(high, bracket.get(low))
            bracket.set(low, (t, f_new, g_new.copy(), gtd_new))
    return bracket.f[low], bracket.g[low], bracket.t[low], evals
