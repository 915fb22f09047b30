"""ember.backends.cudnn: absent (ember has no CUDA); the flags are plain settable attributes.

ember's kernels sum in a fixed order, so its results are deterministic whatever
`deterministic` and `benchmark` say.
"""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version():
    """cuDNN's version, None when it is absent (as PyTorch)."""
    return None
