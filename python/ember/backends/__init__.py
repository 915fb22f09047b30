"""ember.backends: PyTorch's backend switches, so scripts that set them run unchanged.

ember has one backend (its CPU kernels); `cudnn` and `mps` report that they are absent and keep
the flags scripts set (`ember.backends.cudnn.deterministic = True`) without effect.
"""
from . import cudnn, mps  # noqa: F401
