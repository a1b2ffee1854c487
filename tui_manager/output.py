"""Writing to our stdout without ever blocking the engine, and without losing a line for any
reader that keeps reading.

The engine's loop only appends bytes. A writer thread does the blocking writes, so a slow
reader stalls the thread, never the supervision. What the reader has not taken yet waits in
memory up to BOUND, and beyond that in a spool file on disk (unlinked at once), in order: a
regular file, /dev/null, a slow but steady pipe or socket, a CI runner that falls minutes
behind, all get every line. Only a reader that made no progress at all for STALL seconds (a
paused `less`, Ctrl+S, a stopped `cat`) loses lines: what waited for it is dropped and counted,
and once it reads again it gets one line saying how much it missed (the log files have it),
then the newest output. A regular file is never given up on. A closed stdout (`up | head -5`)
is reported once through `on_closed`.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import BinaryIO

BOUND = 8 << 20  # bytes waiting in memory; more wait in the spool file
STALL = 2.0  # seconds without progress after which a pipe's reader is given up on
PIECE = 1 << 14  # a write's size: the reader's progress is seen at this grain


def marker(lines: int, size: int) -> bytes:
    return (
        f"… {lines:,} lines ({size:,} bytes) skipped here while the reader was stopped "
        "(the log files have them)\n"
    ).encode()


def never_gives_up(fd: int) -> bool:
    """A regular file or /dev/null: it never stops reading, so nothing is ever dropped."""
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    if stat.S_ISREG(st.st_mode):
        return True
    try:
        null = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev


class Spool:
    """Bytes in order, in memory up to `bound` and then on disk: appended by the engine,
    taken from the front by the writer thread (the caller holds the lock)."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        # Each block with its newlines, counted once as it comes (a flood's blocks are MiBs:
        # counting them again on the way out cost as much as writing them).
        self.memory: deque[tuple[bytes, int]] = deque()
        self.in_memory = 0
        self.file: BinaryIO | None = None
        self.on_disk: deque[tuple[int, int]] = deque()  # (size, newlines) of each block spooled
        self.read_at = self.write_at = 0  # offsets in the spool file
        self.lines = 0  # newlines waiting, for the marker

    @property
    def size(self) -> int:
        return self.in_memory + self.write_at - self.read_at

    def append(self, data: bytes) -> None:
        lines = data.count(b"\n")
        self.lines += lines
        # Once anything went to disk, everything after it does too, or the order would break.
        if self.file is None and self.in_memory + len(data) <= self.bound:
            self.memory.append((data, lines))
            self.in_memory += len(data)
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="autogpt-dev-stdout-")  # noqa: SIM115
        self.file.seek(self.write_at)
        self.file.write(data)
        self.write_at += len(data)
        self.on_disk.append((len(data), lines))

    def take(self) -> bytes:
        """The next bytes to write: a big block as it is (a flood's blocks are MiBs), small
        ones joined; from memory first, then from the spool."""
        if self.memory:
            first, lines = self.memory.popleft()
            parts, size = [first], len(first)
            while self.memory and size < PIECE and len(self.memory[0][0]) < PIECE:
                block, n = self.memory.popleft()
                parts.append(block)
                size, lines = size + len(block), lines + n
            self.in_memory -= size
            data = parts[0] if len(parts) == 1 else b"".join(parts)
        elif self.on_disk and self.file is not None:
            size = lines = 0
            while self.on_disk and (not size or size + self.on_disk[0][0] <= 1 << 20):
                n_bytes, n = self.on_disk.popleft()  # whole blocks: their counts stay true
                size, lines = size + n_bytes, lines + n
            self.file.flush()
            self.file.seek(self.read_at)
            data = self.file.read(size)
            self.read_at += len(data)
            if not self.on_disk:
                self.drop_file()
        else:
            return b""
        self.lines -= lines
        return data

    def clear(self) -> tuple[int, int]:
        """Drop everything waiting: (lines, bytes) dropped."""
        dropped = (self.lines, self.size)
        self.memory.clear()
        self.in_memory = self.lines = 0
        self.drop_file()
        return dropped

    def drop_file(self) -> None:
        if self.file is not None:
            self.file.close()
        self.file = None
        self.on_disk.clear()
        self.read_at = self.write_at = 0


class BoundedWriter:
    def __init__(
        self,
        fd: int,
        on_closed: Callable[[], None] | None = None,
        bound: int = BOUND,
        stall: float = STALL,
        on_resumed: Callable[[], None] | None = None,
        frames: bool = False,
    ) -> None:
        """`frames`: what is written is screen frames (the dashboard's terminal): past the
        bound they are dropped at once, never spooled or announced (a repaint follows)."""
        self.fd = fd
        self.frames = frames
        self.on_closed = on_closed
        self.on_resumed = on_resumed  # output flows again after some was dropped
        self.stall = stall
        self.patient = never_gives_up(fd)
        self.closed = False
        self._spool = Spool(bound)
        self._progress = time.monotonic()  # when the reader last took something
        self._writing = False  # the thread is inside a write (it may be blocked there)
        self._dropped_lines = self._dropped_bytes = 0
        self._cond = threading.Condition()
        self._stop = False
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="stdout-writer", daemon=True)
        self._thread.start()

    # -- the engine's side ----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.closed or not data:
            return
        with self._cond:
            full = self.frames and self._spool.size + len(data) > self._spool.bound
            if full or self._stalled():
                self._drop(data)
                return
            self._spool.append(data)
            self._idle.clear()
            self._cond.notify()

    def _stalled(self) -> bool:
        """The reader took nothing for `stall` seconds while output waited for it."""
        if self.patient or not self._writing:
            return False
        return time.monotonic() - self._progress > self.stall

    def _drop(self, data: bytes) -> None:
        lines, size = self._spool.clear()
        self._dropped_lines += lines + data.count(b"\n")
        self._dropped_bytes += size + len(data)

    # -- the writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._spool.size and not self._stop:
                    self._idle.set()
                    self._cond.wait()
                data = self._spool.take()
                if not data and self._stop:
                    return
                self._writing = True
            try:
                self._write_all(data)
                self._announce()  # (between whole chunks: never inside a line)
            except OSError:  # EPIPE: nobody reads any more; EIO: the terminal is gone
                self._closed()
                return
            finally:
                with self._cond:
                    self._writing = False

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = self._write_piece(view[:PIECE])
            view = view[n:]
            if self._progressed() and view:  # it was away: finish the line, drop the rest
                rest = bytes(view)
                cut = rest.find(b"\n") + 1
                self._write_all_plain(rest[:cut])
                with self._cond:
                    self._dropped_lines += rest[cut:].count(b"\n")
                    self._dropped_bytes += len(rest) - cut
                return

    def _write_all_plain(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self._write_piece(view[:PIECE]) :]

    def _write_piece(self, piece: memoryview | bytes) -> int:
        """One write; in pieces because a blocking write returns only once all of it is
        written, and progress must show as soon as the reader takes some."""
        while True:
            try:
                return os.write(self.fd, piece)
            except BlockingIOError:  # someone set O_NONBLOCK on a shared tty: wait, retry
                time.sleep(0.01)

    def _progressed(self) -> bool:
        """The reader took a piece. True if it had taken nothing for `stall` seconds before:
        it was stopped, and what waited for it meanwhile is dropped (counted for the marker),
        as it would have been had the service written more meanwhile (write)."""
        with self._cond:
            now = time.monotonic()
            away = not (self.patient or self.frames) and now - self._progress > self.stall
            self._progress = now
            if away:
                lines, size = self._spool.clear()
                self._dropped_lines += lines
                self._dropped_bytes += size
            return away

    def _announce(self) -> None:
        """The reader took a whole chunk: if output was dropped meanwhile, say how much,
        before anything newer."""
        with self._cond:
            lines, size = self._dropped_lines, self._dropped_bytes
            self._dropped_lines = self._dropped_bytes = 0
        if not size:
            return
        if not self.frames:
            self._write_all_plain(marker(lines, size))
        if self.on_resumed:
            self.on_resumed()

    def _closed(self) -> None:
        self.closed = True
        self._idle.set()
        if self.on_closed:
            self.on_closed()

    # -- closing --------------------------------------------------------------------------------
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
        with self._cond:
            self._spool.drop_file()
