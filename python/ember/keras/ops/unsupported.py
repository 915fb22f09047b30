"""The Keras 3 ops ember does not have: asking keras.ops for one raises NotImplementedError
naming it (any other unknown name is an AttributeError, as for any module)."""
from __future__ import annotations

_KERAS_OPS_NOT_IN_EMBER = frozenset(["adaptive_average_pool", "adaptive_max_pool", "angle",
    "append", "argpartition", "array", "array_split", "associative_scan", "average_pool",
    "bartlett", "bincount", "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not",
    "bitwise_or", "bitwise_right_shift", "bitwise_xor", "blackman", "cbrt", "cdist", "cholesky",
    "cholesky_inverse", "conj", "conjugate", "conv", "conv_transpose", "corrcoef", "correlate",
    "cross", "ctc_decode", "ctc_loss", "custom_gradient", "deg2rad", "depth_to_space",
    "depthwise_conv", "det", "diagflat", "diff", "digitize", "dsplit", "dstack", "eig", "eigh",
    "empty_like", "erfc", "erfinv", "exp2", "extract_sequences", "fabs", "fft", "fft2", "fliplr",
    "flipud", "fmax", "fmin", "fmod", "fold", "gcd", "geomspace", "get_item", "hamming",
    "hanning", "heaviside", "histogram", "hsplit", "hypot", "i0", "ifft2", "imag", "inv", "irfft",
    "isin", "isneginf", "isposinf", "isreal", "istft", "jvp", "kaiser", "kron", "lcm", "ldexp",
    "left_shift", "logaddexp2", "logdet", "logspace", "lstsq", "lu_factor", "matrix_rank",
    "max_pool", "median", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax",
    "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd",
    "nansum", "nanvar", "nextafter", "percentile", "pinv", "polar", "psnr", "ptp", "qr",
    "quantile", "rad2deg", "real", "rearrange", "rfft", "right_shift", "rot90", "saturate_cast",
    "scan", "scatter", "scatter_update", "searchsorted", "segment_min", "segment_prod",
    "separable_conv", "signbit", "sinc", "slogdet", "solve", "solve_triangular", "space_to_depth",
    "sparse_sigmoid", "sparsemax", "stft", "svd", "trapezoid", "tri", "unfold", "unique",
    "unravel_index", "vander", "vectorize", "view", "view_as_complex", "view_as_real", "vsplit"])


def unsupported_op(name: str) -> Exception:
    if name in _KERAS_OPS_NOT_IN_EMBER:
        return NotImplementedError(f"keras.ops.{name} is not supported by ember")
    return AttributeError(f"module 'ember.keras.ops' has no attribute {name!r}")
