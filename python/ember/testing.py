"""Testing helpers: a finite-difference gradient check and a closeness assertion.

``gradcheck`` follows ``torch.autograd.gradcheck``: every float64 input with requires_grad=True
is perturbed element by element (central differences) and the resulting change of each output is
compared with what ember's autograd computes. For every input it compares J^T v for a random v
(one backward pass); when the outputs are small it also compares the full Jacobian, row by row.
"""
from __future__ import annotations

import numpy as np

__all__ = ["GradcheckError", "gradcheck", "assert_close", "numerical_jacobian"]

# Full Jacobians are checked only while outputs have at most this many elements: each row costs
# one backward pass.
_FULL_JACOBIAN_MAX_OUTPUTS = 64


class GradcheckError(AssertionError):
    """Raised by gradcheck when the analytic and numerical gradients disagree."""


def numerical_jacobian(f, arrays, index, eps=1e-6):
    """Central-difference Jacobian of ``f(*arrays)`` with respect to ``arrays[index]``.

    ``f`` returns one ndarray or a sequence of them (flattened and concatenated). Returns an
    array of shape (outputs, inputs). ``arrays[index]`` is perturbed in place and restored.
    """
    x = arrays[index]
    flat = x.reshape(-1)
    if x.size and not np.shares_memory(flat, x):
        raise ValueError("numerical_jacobian: the input must be a contiguous array")
    columns = []
    for j in range(flat.size):
        orig = flat[j]
        flat[j] = orig + eps
        plus = _flat_outputs(f(*arrays))
        flat[j] = orig - eps
        minus = _flat_outputs(f(*arrays))
        flat[j] = orig
        columns.append((plus - minus) / (2 * eps))
    if not columns:
        return np.zeros((_flat_outputs(f(*arrays)).size, 0))
    return np.stack(columns, axis=1)


def _flat_outputs(out):
    if isinstance(out, (tuple, list)):
        parts = [np.asarray(o, dtype=np.float64).reshape(-1) for o in out]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.asarray(out, dtype=np.float64).reshape(-1)


def _to_numpy(x):
    from .tensor import Tensor

    if isinstance(x, Tensor):
        return x.detach().numpy()
    return np.asarray(x)


def assert_close(actual, expected, rtol=None, atol=None, msg=None, equal_nan=False):
    """Asserts |actual - expected| <= atol + rtol * |expected| elementwise, with equal shapes.

    Accepts ember tensors, NumPy arrays and Python numbers. Default tolerances follow
    torch.testing.assert_close: float32 rtol=1.3e-6, atol=1e-5; float64 rtol=1e-7, atol=1e-7.
    """
    a, e = _to_numpy(actual), _to_numpy(expected)
    if rtol is None or atol is None:
        low = np.float32 if np.float32 in (a.dtype.type, e.dtype.type) else np.float64
        default_rtol, default_atol = (1.3e-6, 1e-5) if low == np.float32 else (1e-7, 1e-7)
        rtol = default_rtol if rtol is None else rtol
        atol = default_atol if atol is None else atol
    prefix = f"{msg}: " if msg else ""
    if a.shape != e.shape:
        raise AssertionError(f"{prefix}shapes differ: actual {a.shape}, expected {e.shape}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not ok.all():
        bad = np.argwhere(~ok)
        first = tuple(int(i) for i in bad[0]) if a.ndim else ()
        err = np.abs(a64 - e64)
        worst = float(np.max(np.where(ok, 0.0, np.nan_to_num(err, nan=np.inf))))
        raise AssertionError(
            f"{prefix}{bad.shape[0]} of {a.size} elements differ (rtol={rtol}, atol={atol}); "
            f"first at index {first}: actual {a64[first]!r}, expected {e64[first]!r}; "
            f"largest difference {worst!r}")


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def gradcheck(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Checks ember autograd gradients of ``func(*inputs)`` against finite differences.

    ``inputs`` is a tensor or a tuple of tensors and other values; every tensor with
    requires_grad=True must be float64 and is checked. ``func`` returns a tensor or a tuple of
    tensors (non-floating outputs such as indices are ignored). Returns True when every gradient
    matches; otherwise raises GradcheckError (or returns False when raise_exception=False).
    The caller's tensors are not modified and their ``.grad`` is left alone.
    """
    from . import autograd
    from .tensor import Tensor

    inputs = _as_tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input tensor has requires_grad=True")
    for i in checked:
        if inputs[i]._array.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; gradcheck needs "
                             f"float64 inputs (call .double()) because float32 finite differences "
                             f"are too inaccurate")

    # Private leaf copies: contiguous, so an element can be perturbed through a flat view.
    arrays = [np.array(t._array, dtype=np.float64, copy=True, order="C")
              if isinstance(t, Tensor) else t for t in inputs]
    leaves = list(inputs)
    for i in checked:
        leaves[i] = Tensor._from_op(arrays[i], None)
        leaves[i].requires_grad_(True)

    def outputs_of(result):
        outs = [o for o in _as_tuple(result)
                if isinstance(o, Tensor) and o._array.dtype.kind == "f"]
        if not outs:
            raise ValueError("gradcheck: func returned no floating-point tensor")
        return outs

    def forward_arrays(*_):
        with autograd.no_grad():
            return [o._array for o in outputs_of(func(*leaves))]

    def analytic(cotangents):
        """Gradients of sum_k <out_k, v_k> w.r.t. each checked input (zeros where unused)."""
        for i in checked:
            leaves[i].grad = None
        outs = outputs_of(func(*leaves))
        for o, v in zip(outs, cotangents):
            if o.requires_grad:  # outputs may share a graph (h_n is a slice of output)
                o.backward(Tensor._from_op(v.astype(o._array.dtype), None), retain_graph=True)
        grads = {}
        for i in checked:
            g = leaves[i].grad
            if g is None:
                grads[i] = np.zeros_like(arrays[i])
                continue
            if g.shape != leaves[i].shape:
                raise GradcheckError(f"gradcheck: gradient of input {i} has shape "
                                     f"{tuple(g.shape)} but the input has {tuple(leaves[i].shape)}")
            grads[i] = np.array(g._array, dtype=np.float64)
        return grads

    out_shapes = [a.shape for a in forward_arrays()]
    out_sizes = [int(np.prod(s, dtype=np.int64)) for s in out_shapes]
    total_out = sum(out_sizes)

    rng = np.random.default_rng(0)
    cotangents = [rng.standard_normal(s) for s in out_shapes]
    v_flat = np.concatenate([c.reshape(-1) for c in cotangents]) if cotangents else np.zeros(0)
    projected = analytic(cotangents)

    full_rows = None
    if total_out <= _FULL_JACOBIAN_MAX_OUTPUTS:
        full_rows = []
        for r in range(total_out):
            onehot = np.zeros(total_out)
            onehot[r] = 1.0
            parts, start = [], 0
            for s, n in zip(out_shapes, out_sizes):
                parts.append(onehot[start:start + n].reshape(s))
                start += n
            full_rows.append(analytic(parts))

    for i in checked:
        numeric = numerical_jacobian(forward_arrays, arrays, i, eps)  # (total_out, numel)
        in_shape = arrays[i].shape
        num_vjp = (v_flat @ numeric).reshape(in_shape) if numeric.size else np.zeros(in_shape)
        message = _compare(num_vjp, projected[i], atol, rtol,
                           f"input {i}: J^T v for a random v")
        if message:
            return _fail(raise_exception, message)
        if full_rows is not None:
            for r in range(total_out):
                message = _compare(numeric[r].reshape(in_shape), full_rows[r][i], atol, rtol,
                                   f"input {i}: Jacobian row of output element {r}")
                if message:
                    return _fail(raise_exception, message)
    return True


def _compare(numerical, analytic_grad, atol, rtol, what):
    ok = np.abs(numerical - analytic_grad) <= atol + rtol * np.abs(numerical)
    ok &= np.isfinite(analytic_grad) == np.isfinite(numerical)
    if ok.all():
        return None
    idx = tuple(int(k) for k in np.argwhere(~ok)[0])
    return (f"gradcheck failed for {what}, element {idx}: numerical {numerical[idx]!r} vs "
            f"analytic {analytic_grad[idx]!r} (atol={atol}, rtol={rtol}); "
            f"numerical:\n{numerical}\nanalytic:\n{analytic_grad}")


def _fail(raise_exception, message):
    if raise_exception:
        raise GradcheckError(message)
    return False
