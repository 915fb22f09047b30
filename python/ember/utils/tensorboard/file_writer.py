"""FileWriter: appends Event protocol buffers to one new event file (TFRecord framing, as
TensorBoard reads it) in a log directory.

Events wait in memory until max_queue of them are pending, flush_secs have passed (a daemon
thread), flush() or close(). Each writer makes its own file, named as TensorBoard's writers name
them (time, host, process id and a counter), so writers made in the same second never collide.
"""
from __future__ import annotations

import atexit
import functools
import itertools
import os
import socket
import struct
import threading
import time
import weakref

_file_numbers = itertools.count()


def _close_if_alive(ref) -> None:
    writer = ref()
    if writer is not None:
        writer.close()


class FileWriter:
    def __init__(self, log_dir: str, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = ""):
        from tensorboardX.proto.event_pb2 import Event
        from tensorboardX.record_writer import masked_crc32c

        self._crc = masked_crc32c
        self._log_dir = str(log_dir)
        os.makedirs(self._log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_file_numbers)}{filename_suffix}")
        self._file = open(os.path.join(self._log_dir, name), "wb")
        self._pending: list = []
        self._max_queue = max_queue
        self._lock = threading.Lock()
        self._closed = False
        self.add_event(Event(wall_time=time.time(), file_version="brain.Event:2"))
        self.flush()
        self._stop = threading.Event()
        self._flusher = threading.Thread(target=self._flush_every, args=(flush_secs,),
                                         daemon=True)
        self._flusher.start()
        # Pending events reach the file even when a script ends without close().
        self._at_exit = functools.partial(_close_if_alive, weakref.ref(self))
        atexit.register(self._at_exit)

    def get_logdir(self) -> str:
        return self._log_dir

    def add_event(self, event, step=None, walltime=None) -> None:
        """Stamps the event with the wall time (now unless given) and step, and queues it."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        with self._lock:
            if self._closed:
                raise ValueError(f"FileWriter for {self._log_dir} is closed")
            self._pending.append(event.SerializeToString())
            full = len(self._pending) >= self._max_queue
        if full:
            self.flush()

    def add_summary(self, summary, global_step=None, walltime=None) -> None:
        from tensorboardX.proto.event_pb2 import Event

        self.add_event(Event(summary=summary), global_step, walltime)

    def flush(self) -> None:
        """Writes every pending event to the file and the file to disk."""
        with self._lock:
            if self._closed:
                return
            for data in self._pending:
                header = struct.pack("<Q", len(data))
                self._file.write(header + struct.pack("<I", self._crc(header)) + data
                                 + struct.pack("<I", self._crc(data)))
            self._pending.clear()
            self._file.flush()

    def _flush_every(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            self.flush()

    def close(self) -> None:
        if self._closed:
            return
        self._stop.set()
        atexit.unregister(self._at_exit)
        self.flush()
        with self._lock:
            self._closed = True
            self._file.close()
