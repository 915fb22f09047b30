"""ember.multiprocessing: the standard library's multiprocessing, as torch.multiprocessing is;
tensors moved into shared memory (Tensor.share_memory_, Module.share_memory) reach the other
processes by reference (see ember.shared_memory)."""
import multiprocessing as _multiprocessing
from multiprocessing import *  # noqa: F401,F403

__all__ = list(_multiprocessing.__all__)
