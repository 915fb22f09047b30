"""Tensors in shared memory (Tensor.share_memory_, Module.share_memory), as Hogwild training
with torch.multiprocessing uses them: a shared tensor is pickled to another process as the name
of its shared-memory segment, so both processes read and write the same values.

The process that shares a tensor owns its segment and unlinks it when it exits; processes that
receive it only attach to it.
"""
import atexit

import numpy as np

# Data address -> (SharedMemory, shape, dtype) of every array living in a shared segment.
_segments = {}
_owned = []


def share_array(array):
    """`array` itself when it is already shared, else a copy in a new shared segment."""
    if shared_handle(array) is not None:
        return array
    array = np.ascontiguousarray(array)
    from multiprocessing import shared_memory  # (not at `import ember`: it is slow to load)
    segment = shared_memory.SharedMemory(create=True, size=max(array.nbytes, 1))
    shared = np.ndarray(array.shape, array.dtype, buffer=segment.buf)
    shared[...] = array
    _segments[shared.ctypes.data] = (segment, shared.shape, shared.dtype)
    _owned.append(segment)
    return shared


def shared_handle(array):
    """(segment name, shape, dtype) when `array` is a whole shared array, else None."""
    entry = _segments.get(array.ctypes.data) if isinstance(array, np.ndarray) else None
    if entry is None or entry[1] != array.shape or entry[2] != array.dtype:
        return None
    return entry[0].name, array.shape, array.dtype.str


def attach(name, shape, dtype):
    """The shared array named `name`, seen from a process that did not create it."""
    # Python 3.11 registers the name again with the resource tracker, which child processes
    # share with their parent: a set, so the owner's unlink still unregisters it once.
    from multiprocessing import shared_memory
    segment = shared_memory.SharedMemory(name=name)
    array = np.ndarray(shape, np.dtype(dtype), buffer=segment.buf)
    _segments[array.ctypes.data] = (segment, array.shape, array.dtype)
    return array


class _SharedRef:
    """Pickles as the segment's name; unpickles as the attached array."""

    def __init__(self, handle):
        self.handle = handle

    def __reduce__(self):
        return attach, self.handle


def picklable_array(array):
    """What a tensor pickles its data as: the shared segment's name, or the array itself."""
    handle = shared_handle(array)
    return array if handle is None else _SharedRef(handle)


@atexit.register
def _unlink_owned():
    for segment in _owned:
        try:
            segment.unlink()
        except FileNotFoundError:
            pass


def share_memory_(self):
    """Tensor.share_memory_: moves the data into shared memory (a no-op when it is there)."""
    self._array = share_array(self._array)
    return self


def is_shared(self):
    return shared_handle(self._array) is not None


def module_share_memory(self):
    """Module.share_memory: parameters, their gradients and buffers into shared memory."""
    for t in list(self.parameters()) + list(self.buffers()):
        t.share_memory_()
        if t.grad is not None:
            t.grad.share_memory_()
    return self
