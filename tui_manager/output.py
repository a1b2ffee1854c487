"""Writing to our stdout without ever blocking the engine: a bounded buffer and a writer thread.

The engine's loop only appends bytes (O(1)). The thread does the blocking writes, so a paused
pager (`up | less`) or a slow log shipper stalls the thread, not the supervision. Past the bound,
new output is dropped and counted; once the reader catches up, one line says how much was lost.
A closed stdout (`up | head -5`) is reported once through `on_closed`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable

BOUND = 8 << 20  # bytes waiting for the reader before output is dropped
PIECE = 1 << 16


class BoundedWriter:
    def __init__(
        self,
        fd: int,
        on_closed: Callable[[], None] | None = None,
        bound: int = BOUND,
        marker: Callable[[int, int], bytes] | None = None,
        on_resumed: Callable[[], None] | None = None,
    ) -> None:
        self.fd = fd
        self.on_closed = on_closed
        self.on_resumed = on_resumed  # output flows again after some was dropped
        self.bound = bound
        self.marker = marker or (
            lambda lines, size: (
                f"… output paused: {lines:,} lines ({size:,} bytes) "
                "dropped here (the log files have them)\n".encode()
            )
        )
        self.closed = False
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._dropped_lines = 0
        self._dropped_bytes = 0
        self._cond = threading.Condition()
        self._stop = False
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="stdout-writer", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        with self._cond:
            if self._size + len(data) > self.bound:
                self._dropped_lines += data.count(b"\n")
                self._dropped_bytes += len(data)
                return
            resumed = bool(self._dropped_bytes)
            if resumed:
                data = self.marker(self._dropped_lines, self._dropped_bytes) + data
                self._dropped_lines = self._dropped_bytes = 0
            self._chunks.append(data)
            self._size += len(data)
            self._idle.clear()
            self._cond.notify()
        if resumed and self.on_resumed:
            self.on_resumed()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._chunks and not self._stop:
                    self._idle.set()
                    self._cond.wait()
                if not self._chunks:
                    return
                data = self._take()
            view = memoryview(data)
            try:
                while view:
                    # In pieces: a blocking write returns only once all of it is written,
                    # and the room it frees must count as soon as the reader takes some.
                    n = os.write(self.fd, view[:PIECE])
                    view = view[n:]
                    with self._cond:  # room again as soon as the reader takes some
                        self._size -= n
            except BlockingIOError:  # someone set O_NONBLOCK on a shared tty: wait, retry
                time.sleep(0.01)
                with self._cond:
                    self._chunks.appendleft(bytes(view))
                continue
            except OSError:  # EPIPE: nobody reads any more; EIO: the terminal is gone
                self._closed()
                return

    def _take(self) -> bytes:
        """The next write (the lock held): a big chunk as it is (a flood's blocks are MiBs:
        joining them would copy them all once more), small ones joined into one write."""
        first = self._chunks.popleft()
        if len(first) >= PIECE or not self._chunks:
            return first
        parts, size = [first], len(first)
        while self._chunks and size < PIECE and len(self._chunks[0]) < PIECE:
            parts.append(self._chunks.popleft())
            size += len(parts[-1])
        return b"".join(parts)

    def _closed(self) -> None:
        self.closed = True
        self._idle.set()
        if self.on_closed:
            self.on_closed()

    def flush(self, timeout: float) -> bool:
        """Wait (up to timeout) until everything is written; False if the reader is stuck."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 1.0) -> None:
        """Write what is left (within timeout), then stop the thread."""
        self.flush(timeout)
        with self._cond:
            self._stop = True
            self._cond.notify()
        with contextlib.suppress(RuntimeError):
            self._thread.join(0.1 if self.closed else timeout)
