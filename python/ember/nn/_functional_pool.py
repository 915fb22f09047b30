"""F.max_pool*, F.avg_pool*, F.adaptive_*_pool* (PyTorch semantics; channels_last for Keras)."""
from __future__ import annotations

from .. import _core, autograd
from .._bounds import INT64_MAX, check_alloc, check_int64
from ..ops import pool as P
from ..tensor import Tensor
from ._functional_conv import _int_tuple


def pool_output_size(size, kernel, stride, pad_before, pad_after, dilation, ceil_mode):
    """PyTorch's pooling output length; with ceil_mode the last window must start inside the
    input or the leading padding."""
    span = size + pad_before + pad_after - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad_before:
        out -= 1
    return out


def _pool_pads(op, padding, n):
    """Symmetric per-dim padding, or explicit (before, after) pairs: ((b, a), ...)."""
    if type(padding) is int:  # the common case, first
        return ((padding, padding),) * n
    if not isinstance(padding, int) and len(padding) == 2 * n and n > 1:
        flat = _int_tuple(op, "padding", padding, 2 * n)
        return tuple((flat[2 * i], flat[2 * i + 1]) for i in range(n))
    if n == 1 and not isinstance(padding, int) and len(padding) == 2:
        return (tuple(_int_tuple(op, "padding", padding, 2)),)
    return tuple((p, p) for p in _int_tuple(op, "padding", padding, n))


def _spatial(x, channels_last):
    shape = x._array.shape
    return (shape[1], shape[2]) if channels_last else (shape[2], shape[3])


def _as_4d(op, input, ndim, channels_last):
    """(input as 4-D, function restoring the original layout of an output, or None when the
    input already is 4-D)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be an ember tensor, got {type(input).__name__}")
    given = input._array.ndim
    if given == 4 == ndim:  # batched 2-D pooling, the common case: nothing to reshape
        return input, None
    if given not in (ndim - 1, ndim):
        raise _core.ShapeError(f"{op}: expected {ndim - 1}-D (unbatched) or {ndim}-D (batched) "
                               f"input, got shape {tuple(input.shape)}")
    unbatched = given == ndim - 1
    x = input.unsqueeze(0) if unbatched else input
    if ndim == 3:  # 1-D pooling: height 1
        x = x.unsqueeze(1) if channels_last else x.unsqueeze(2)

    def restore(y):
        if ndim == 3:
            y = y.squeeze(1) if channels_last else y.squeeze(2)
        return y.squeeze(0) if unbatched else y
    return x, restore


def _pooled_size(op, input, x, kernel, stride, pads, dilation, ceil_mode, channels_last):
    """The output's (height, width). The kernel must fit the padded input, reported with the
    user's own shapes."""
    out = []
    for size, k, st, (b, a), d in zip(_spatial(x, channels_last), kernel, stride, pads, dilation):
        if b > k // 2 or a > k // 2:  # PyTorch's rule, checked before any size is worked out
            flat = ", ".join(str(p) for pair in pads for p in pair)
            raise ValueError(f"{op}: padding should be non-negative and at most half of the "
                             f"kernel size, got padding ({flat}) for kernel {tuple(kernel)}")
        span = size + b + a - d * (k - 1) - 1
        if span < 0:
            raise _core.ShapeError(f"{op}: kernel_size {k} (dilation {d}) is larger than the "
                                   f"padded input ({size} + padding {b + a}); input shape "
                                   f"{tuple(input.shape)}")
        out.append(span // st + 1 if not ceil_mode else
                   pool_output_size(size, k, st, b, a, d, ceil_mode))
    return tuple(out)


def _window_args(op, ndim, kernel_size, stride, padding, dilation):
    n = ndim - 2
    if (n == 2 and type(kernel_size) is int and kernel_size >= 1
            and (stride is None or type(stride) is int and stride >= 1)
            and type(padding) is int and padding >= 0 and type(dilation) is int
            and dilation >= 1 and max(kernel_size, stride or 1, padding, dilation) <= INT64_MAX
            ):  # F.max_pool2d(x, 2), nn.MaxPool2d(2): without the checks below
        kernel = (kernel_size, kernel_size)
        steps = kernel if stride is None else (stride, stride)
        return kernel, steps, (dilation, dilation), ((padding, padding),) * 2
    kernel = _int_tuple(op, "kernel_size", kernel_size, n)
    stride = kernel if stride is None or stride == [] or stride == () else \
        _int_tuple(op, "stride", stride, n)
    dilation = _int_tuple(op, "dilation", dilation, n)
    pads = _pool_pads(op, padding, n)
    if min(kernel + stride + dilation) < 1:
        for name, values in (("kernel_size", kernel), ("stride", stride), ("dilation", dilation)):
            if any(v < 1 for v in values):
                raise ValueError(f"{op}: {name} must be positive. Received: {name}={values}")
    if min(map(min, pads)) < 0:
        raise ValueError(f"{op}: padding must be non-negative. Received: padding={padding!r}")
    if n == 1:  # height 1 for 1-D pooling
        kernel, stride, dilation, pads = (1,) + kernel, (1,) + stride, (1,) + dilation, ((0, 0),) + pads
    return kernel, stride, dilation, pads


def max_pool_geometry(op, ndim, input, kernel_size, stride, padding, dilation, ceil_mode,
                      channels_last):
    """(input as 4-D, the function restoring its layout or None, the kernels' geometry) of a
    max pooling call, every argument checked; a layer may keep the geometry per input shape."""
    kernel, stride, dilation, pads = _window_args(op, ndim, kernel_size, stride, padding, dilation)
    x, restore = _as_4d(op, input, ndim, channels_last)
    out = _pooled_size(op, input, x, kernel, stride, pads, dilation, ceil_mode, channels_last)
    return x, restore, (kernel, stride, pads[0] + pads[1], dilation, out, channels_last)


# The checked geometry of recent batched 2-D calls, by input shape and arguments: working it out
# again took as long as pooling a small batch-1 feature map.
_geometry_cache: dict = {}


def _plain_int_arg(value) -> bool:
    """An int, None or a tuple of ints: arguments that may key the cache (2.0 equals 2 as a key,
    but must still be refused)."""
    return (value is None or type(value) is int or
            type(value) is tuple and all(type(v) is int for v in value))


def _cached_geometry(op, ndim, input, kernel_size, stride, padding, dilation, ceil_mode,
                     channels_last):
    key = None
    if (ndim == 4 and type(input) is Tensor and input._array.ndim == 4
            and all(map(_plain_int_arg, (kernel_size, stride, padding, dilation)))):
        key = (input._array.shape, kernel_size, stride, padding, dilation, bool(ceil_mode),
               bool(channels_last))
        geometry = _geometry_cache.get(key)
        if geometry is not None:
            return input, None, geometry
    x, restore, geometry = max_pool_geometry(op, ndim, input, kernel_size, stride, padding,
                                             dilation, ceil_mode, channels_last)
    if key is not None:
        if len(_geometry_cache) >= 256:
            _geometry_cache.clear()
        _geometry_cache[key] = geometry
    return x, restore, geometry


def _max_pool(op, ndim, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices,
              channels_last):
    x, restore, geometry = _cached_geometry(op, ndim, input, kernel_size, stride, padding,
                                            dilation, ceil_mode, channels_last)
    if return_indices:
        sink = []
        y = P.MaxPool2d.apply(x, geometry=geometry, indices_sink=sink)
    else:
        sink = None
        y = (P.MaxPool2d.apply(x, geometry=geometry) if autograd._state.enabled
             else P.MaxPool2d.infer(x, geometry))
    return _with_indices(y, sink, restore)


def _with_indices(y, sink, restore):
    """The pooled tensor, and with return_indices (a list `sink`) the argmax positions (flat
    within each input plane, as PyTorch returns them)."""
    if restore is None:
        return y if sink is None else (y, Tensor._from_op(sink[0], None))
    if sink is None:
        return restore(y)
    return restore(y), restore(Tensor._from_op(sink[0], None))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, channels_last=False):
    return _max_pool("max_pool2d", 4, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, channels_last)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, channels_last=False):
    return _max_pool("max_pool1d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                     return_indices, channels_last)


def _avg_pool(op, ndim, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, channels_last):
    if divisor_override is not None and (isinstance(divisor_override, bool) or
                                         int(divisor_override) <= 0):
        raise ValueError(f"{op}: divisor_override must be a positive integer, got "
                         f"{divisor_override!r}")
    kernel, stride, _, pads = _window_args(op, ndim, kernel_size, stride, padding, 1)
    x, restore = _as_4d(op, input, ndim, channels_last)
    out = _pooled_size(op, input, x, kernel, stride, pads, (1, 1), ceil_mode, channels_last)
    y = P.AvgPool2d.apply(x, kernel_size=kernel, stride=stride,
                          padding=(pads[0][0], pads[0][1], pads[1][0], pads[1][1]),
                          output_size=out, count_include_pad=bool(count_include_pad),
                          divisor_override=int(divisor_override or 0),
                          channels_last=channels_last)
    return y if restore is None else restore(y)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, channels_last=False):
    return _avg_pool("avg_pool2d", 4, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override, channels_last)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, *, channels_last=False):
    return _avg_pool("avg_pool1d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None, channels_last)


def _adaptive_size(op, output_size, spatial, n):
    sizes = (output_size,) * n if isinstance(output_size, int) or output_size is None \
        else tuple(output_size)
    if len(sizes) != n:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {n}, got {output_size!r}")
    out = tuple(s if o is None else int(o) for o, s in zip(sizes, spatial[-n:]))
    check_int64(op, "output_size", out)
    return out


def _adaptive(op, ndim, fn, input, output_size, channels_last, **kwargs):
    x, restore = _as_4d(op, input, ndim, channels_last)
    spatial = _spatial(x, channels_last)
    out = _adaptive_size(op, output_size, spatial, ndim - 2)
    if ndim == 3:
        out = (1,) + out
    if min(out) >= 1:  # the kernel refuses the others, naming them
        lead = x._array.shape[:1] + x._array.shape[3 if channels_last else 1:][:1]
        check_alloc(op, lead + out, x._array.dtype.itemsize)
    return fn.apply(x, output_size=out, channels_last=channels_last, **kwargs), restore


def adaptive_avg_pool2d(input, output_size, *, channels_last=False):
    y, restore = _adaptive("adaptive_avg_pool2d", 4, P.AdaptiveAvgPool2d, input, output_size,
                           channels_last)
    return _with_indices(y, None, restore)


def adaptive_avg_pool1d(input, output_size, *, channels_last=False):
    y, restore = _adaptive("adaptive_avg_pool1d", 3, P.AdaptiveAvgPool2d, input, output_size,
                           channels_last)
    return _with_indices(y, None, restore)


def adaptive_max_pool2d(input, output_size, return_indices=False, *, channels_last=False):
    sink = [] if return_indices else None
    y, restore = _adaptive("adaptive_max_pool2d", 4, P.AdaptiveMaxPool2d, input, output_size,
                           channels_last, indices_sink=sink)
    return _with_indices(y, sink, restore)


def adaptive_max_pool1d(input, output_size, return_indices=False, *, channels_last=False):
    sink = [] if return_indices else None
    y, restore = _adaptive("adaptive_max_pool1d", 3, P.AdaptiveMaxPool2d, input, output_size,
                           channels_last, indices_sink=sink)
    return _with_indices(y, sink, restore)
