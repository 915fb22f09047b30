"""The Keras 3 ops ember does not have: asking keras.ops for one raises NotImplementedError
naming it (any other unknown name is an AttributeError, as for any module)."""
from __future__ import annotations

_KERAS_OPS_NOT_IN_EMBER = frozenset(["adaptive_average_pool", "adaptive_max_pool", "angle",
    "argpartition", "array", "array_split", "associative_scan", "average_pool", "bartlett",
    "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "blackman", "cdist", "cholesky", "cholesky_inverse",
    "conj", "conjugate", "conv", "conv_transpose", "corrcoef", "correlate", "cross", "ctc_decode",
    "ctc_loss", "custom_gradient", "depth_to_space", "depthwise_conv", "det", "diagflat",
    "dsplit", "dstack", "eig", "eigh", "erfc", "erfinv", "extract_sequences", "fabs", "fft",
    "fft2", "fmax", "fmin", "fold", "gcd", "geomspace", "hamming", "hanning", "heaviside",
    "histogram", "hsplit", "i0", "ifft2", "imag", "inv", "irfft", "isin", "isneginf", "isposinf",
    "isreal", "istft", "jvp", "kaiser", "kron", "lcm", "ldexp", "left_shift", "logdet",
    "logspace", "lstsq", "lu_factor", "matrix_rank", "max_pool", "nanargmax", "nanargmin",
    "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile",
    "nanprod", "nanquantile", "nanstd", "nansum", "nanvar", "nextafter", "percentile", "pinv",
    "polar", "psnr", "qr", "real", "rearrange", "rfft", "right_shift", "rot90", "saturate_cast",
    "scan", "scatter", "scatter_update", "segment_min", "segment_prod", "separable_conv", "sinc",
    "slogdet", "solve", "solve_triangular", "space_to_depth", "sparse_sigmoid", "sparsemax",
    "stft", "svd", "trapezoid", "unfold", "unique", "unravel_index", "vander", "vectorize",
    "view", "view_as_complex", "view_as_real", "vsplit"])


def unsupported_op(name: str) -> Exception:
    if name in _KERAS_OPS_NOT_IN_EMBER:
        return NotImplementedError(f"keras.ops.{name} is not supported by ember")
    return AttributeError(f"module 'ember.keras.ops' has no attribute {name!r}")
