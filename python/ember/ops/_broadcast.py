"""Shape and dtype rules shared by the elementwise ops."""
import numpy as np

_FLOAT64 = np.dtype(np.float64)


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sums grad over the axes along which an input of `shape` was broadcast."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def is_float64(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype == _FLOAT64


def torch_dtype(out: np.ndarray, a, b=None) -> np.ndarray:
    """Applies PyTorch's promotion where NumPy's differs: float64 only if an operand is float64.

    (NumPy makes int64 / int64 and float32 + int64 float64; PyTorch makes them float32, and
    float32 (n-d) + float64 (0-d) float32.)
    """
    if out.dtype != _FLOAT64:
        return out
    # As in PyTorch, a 0-d tensor sets the float dtype only when no n-d operand is a float.
    arrays = [x for x in (a, b) if isinstance(x, np.ndarray)]
    deciding = [x for x in arrays if x.ndim and x.dtype.kind == "f"] or arrays
    if not any(x.dtype == _FLOAT64 for x in deciding):
        return out.astype(np.float32)
    return out
