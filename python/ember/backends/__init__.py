"""ember.backends: PyTorch's backend switches, so scripts that set them run unchanged.

ember has one backend (its CPU kernels); `cuda`, `cudnn` and `mps` report that they are absent
and keep the flags scripts set (`ember.backends.cudnn.deterministic = True`) without effect.
"""
from . import cuda, cudnn, mps  # noqa: F401
