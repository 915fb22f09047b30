"""Shape and dtype rules shared by the elementwise ops."""
import numpy as np



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


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # bool < integer < floating, as in PyTorch
_DEFAULT_FLOAT = np.dtype(np.float32)
_INT64, _BOOL = np.dtype(np.int64), np.dtype(np.bool_)


def _promote(a, b):
    """PyTorch's promote_types: the higher category wins outright (int64 with float32 is
    float32, where NumPy says float64); within a category, NumPy's rule agrees."""
    if a is None or b is None:
        return b if a is None else a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher, lower):
    """PyTorch's combine_categories: a lower-priority group (0-d tensors, then Python numbers)
    changes the dtype only when it brings a higher category."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    if higher.kind == "f":
        return higher
    if higher.kind == "b" or lower.kind == "f":
        return _promote(higher, lower)
    return higher


def _scalar_dtype(x):
    """Python and NumPy scalars take part as PyTorch's wrapped numbers: their category only."""
    if isinstance(x, (bool, np.bool_)):
        return _BOOL
    if isinstance(x, (int, np.integer)):
        return _INT64
    return _DEFAULT_FLOAT


def result_type(*operands) -> np.dtype:
    """The dtype PyTorch gives an op of these operands (ndarrays and Python/NumPy scalars):
    n-d tensors decide, then 0-d tensors, then numbers, each only by a higher category."""
    dim = zero = number = None
    for x in operands:
        if isinstance(x, np.ndarray):
            if x.ndim:
                dim = _promote(dim, x.dtype)
            else:
                zero = _promote(zero, x.dtype)
        elif x is not None:
            number = _promote(number, _scalar_dtype(x))
    return _combine(dim, _combine(zero, number))


def torch_dtype(out: np.ndarray, a, b=None) -> np.ndarray:
    """`out`, computed by NumPy from a and b, cast to the dtype PyTorch would give it.

    (NumPy makes int64 / int64 and float32 + int64 float64 and int32 (n-d) * int64 (0-d)
    int64; PyTorch makes them float32, float32 and int32.) An op whose result is floating
    for integer operands (true division) gets PyTorch's default float32.
    """
    result = result_type(a, b)
    if out.dtype.kind == "f" and result.kind != "f":
        result = _DEFAULT_FLOAT
    return out if out.dtype == result else out.astype(result)
