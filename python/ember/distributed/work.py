"""Waiting on non-blocking MPI requests against a deadline: a collective is started with MPI's
I-variant and polled, so a rank that dies or hangs makes the others raise DistBackendError after
the timeout instead of blocking in MPI forever. MPI cannot cancel a started collective, so the
group is then marked broken and the process aborts the whole MPI job when it exits."""
from __future__ import annotations

import time

from .errors import DistBackendError

# Poll without yielding the core this long: a collective advances only inside MPI calls, and a
# small one between two ranks finishes in tens of microseconds (sleep(0) between polls made a
# 54 KB all_reduce take 197 us instead of 72). Then poll with sleep(0), which yields the core to
# a rank sharing it, and after _SPIN_SECONDS back off to at most 1 ms between polls.
_BUSY_SECONDS = 0.0005
_SPIN_SECONDS = 0.05


class Work:
    """PyTorch's Work handle of an async_op collective: ``wait()`` blocks (up to the group's
    timeout) and runs ``finish`` (copy-back, AVG's division) once the request completes."""

    def __init__(self, group, request, what, finish=None):
        self._group = group
        self._request = request
        self._what = what
        self._finish = finish
        self._done = False
        self._started = time.monotonic()

    def is_completed(self) -> bool:
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def _complete(self):
        self._done = True
        if self._finish is not None:
            self._finish()

    def wait(self, timeout=None) -> bool:
        if self._done:
            return True
        limit = self._group.timeout_seconds if timeout is None else to_seconds(timeout)
        deadline = self._started + limit
        start = time.monotonic()
        busy_until, spin_until = start + _BUSY_SECONDS, start + _SPIN_SECONDS
        pause = 0.0
        while not self._request.Test():  # each Test also advances MPI's progress engine
            now = time.monotonic()
            if now < busy_until:
                continue
            if now > deadline:
                self._group.mark_broken(self._what)
                raise DistBackendError(
                    f"ember.distributed.{self._what}: timed out after {limit:g} s on rank "
                    f"{self._group.rank} of {self._group.world_size}: at least one other rank "
                    "died, hung or did not call the same collective. The MPI job will be "
                    "aborted when this process exits.")
            if now > spin_until:  # a long wait: a peer is slow or gone; stop burning a core
                pause = min(max(pause * 2, 1e-5), 1e-3)
            time.sleep(pause)  # sleep(0) yields the core to a rank sharing it
        self._complete()
        return True


def to_seconds(timeout) -> float:
    """A timeout (a datetime.timedelta, as PyTorch takes it, or seconds) in seconds."""
    if hasattr(timeout, "total_seconds"):
        seconds = timeout.total_seconds()
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        seconds = float(timeout)
    else:
        raise TypeError(f"ember.distributed: timeout must be a datetime.timedelta or seconds, "
                        f"got {timeout!r}")
    if not seconds > 0:
        raise ValueError(f"ember.distributed: timeout must be positive, got {timeout!r}")
    return seconds
