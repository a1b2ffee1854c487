"""Service output: line assembly, the rotating log file (exact bytes), and the in-memory ring.

The pipe reader hands us arbitrary chunks. We write only whole lines to the file (so stdout and
stderr never interleave mid-line), keep the partial tail per stream, and flush it at EOF.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

# A view never needs more than this of one line; the file keeps all of it.
VIEW_LINE_MAX = 16_384
RETRY = 0.5  # seconds between attempts to write again after a write failed (a full disk)


class LogLine(NamedTuple):
    ts: float
    stream: str
    text: str


class LineAssembler:
    """Splits a byte stream into whole lines; amortised O(n) even for one 50 MB line."""

    def __init__(self) -> None:
        self._partial = bytearray()

    def feed(self, data: bytes) -> bytes:
        """Return the complete lines now available (ending in b'\\n'), or b''."""
        idx = data.rfind(b"\n")
        if idx < 0:
            self._partial += data
            return b""
        if self._partial:
            out = bytes(self._partial) + data[: idx + 1]
            self._partial = bytearray(data[idx + 1 :])
        else:
            out = data[: idx + 1]
            self._partial = bytearray(data[idx + 1 :])
        return out

    def flush(self) -> bytes:
        out = bytes(self._partial)
        self._partial.clear()
        return out


def decode_lines(block: bytes) -> list[str]:
    """Whole-line bytes -> text lines for views (invalid UTF-8 replaced, long lines cut)."""
    if block.endswith(b"\n"):
        block = block[:-1]
    lines = block.decode("utf-8", "replace").split("\n")
    return [
        ln
        if len(ln) <= VIEW_LINE_MAX
        else f"{ln[:VIEW_LINE_MAX]}… [{len(ln) - VIEW_LINE_MAX} more]"
        for ln in lines
    ]


def tail_block(block: bytes, n: int) -> bytes:
    """The bytes of the last n lines of a block of whole lines (C-speed, no per-line work)."""
    pos = len(block) - 1  # skip the final newline
    for _ in range(n):
        pos = block.rfind(b"\n", 0, pos)
        if pos < 0:
            return block
    return block[pos + 1 :]


ErrorCallback = Callable[[str | None, int], None]  # (why, or None once writing again; bytes lost)


class RotatingFile:
    """Appends bytes to `path`, rotating to path.1 .. path.N at whole-write boundaries.

    A write that fails (a full disk, a dead NFS mount) loses that block, never the engine: the
    error is reported once through `on_error`, every later write tries again, and the first one
    that succeeds reports the recovery with the number of bytes lost.
    """

    def __init__(
        self, path: Path, max_bytes: int, backups: int, on_error: ErrorCallback | None = None
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self.on_error = on_error
        self.error: str | None = None
        self.lost = 0
        self._retry_at = 0.0
        self._closed = False
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = -1
        self._open()

    def _open(self, truncate: bool = False) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if truncate else 0)
        self._fd = os.open(self.path, flags, 0o644)
        self._size = os.fstat(self._fd).st_size

    def write(self, data: bytes) -> None:
        if self._closed:
            return  # closed at manager exit; nothing may write after that
        if self.error is not None:
            now = time.monotonic()
            if now < self._retry_at:  # still failing: count it, do not hammer the disk
                self.lost += len(data)
                return
            self._retry_at = now + RETRY
            if self._fd >= 0:  # open the path anew: the file may have been moved or freed
                os.close(self._fd)
                self._fd = -1
        try:
            if self._fd < 0:  # after a failure (or a rotation that failed half-way)
                self._open()
            while len(data) > self.max_bytes - self._size:
                # Fill the file up to a line end, then rotate: a big read block does not make
                # a file overshoot the limit, and no line is split across two files.
                cut = data.rfind(b"\n", 0, max(0, self.max_bytes - self._size)) + 1
                if cut == 0 and self._size == 0:  # one line longer than the limit
                    cut = data.find(b"\n") + 1 or len(data)
                self._write_all(data[:cut])
                data = data[cut:]
                if not data:
                    break
                self._rotate()
            self._write_all(data)
        except OSError as e:
            self.lost += len(data)
            if self.error is None:
                self.error = e.strerror or str(e)
                self._retry_at = time.monotonic() + RETRY
                if self.on_error:
                    self.on_error(self.error, self.lost)
            return
        if self.error is not None:
            self.error = None
            if self.on_error:
                self.on_error(None, self.lost)
            self.lost = 0

    def _write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
            self._size += n

    def _rotate(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1  # reopened below, or by the next write if renaming fails
        if self.backups > 0:
            for i in range(self.backups - 1, 0, -1):
                src = self.path.with_name(f"{self.path.name}.{i}")
                if src.exists():
                    os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        self._open(truncate=self.backups == 0)

    def close(self) -> None:
        self._closed = True
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


RING_BYTES = 2 << 20  # per service: 5,000 lines of 400 bytes; fewer when lines are longer


class BlockRing:
    """The last `max_lines` lines, at most `max_bytes` of them, kept as the raw blocks they
    arrived in (the log file has them all).

    Nothing is decoded until a view asks for a tail, so a flood costs no per-line work here.
    Memory is bounded by max_bytes plus one block (a block is at most 1 MiB: one read).
    """

    def __init__(self, max_lines: int, max_bytes: int = RING_BYTES) -> None:
        self.max_lines = max_lines
        self.max_bytes = max_bytes
        self.blocks: deque[tuple[float, str, bytes, int]] = deque()
        self.lines = 0
        self.bytes = 0

    def add(self, ts: float, stream: str, block: bytes, n: int | None = None) -> None:
        n = block.count(b"\n") if n is None else n
        self.blocks.append((ts, stream, block, n))
        self.lines += n
        self.bytes += len(block)
        while len(self.blocks) > 1 and (
            self.lines - self.blocks[0][3] >= self.max_lines
            or self.bytes - len(self.blocks[0][2]) >= self.max_bytes
        ):
            _, _, old, count = self.blocks.popleft()
            self.lines -= count
            self.bytes -= len(old)

    def tail(self, n: int) -> list[LogLine]:
        n = min(n, self.max_lines)
        picked: list[tuple[float, str, bytes, int]] = []
        count = 0
        for item in reversed(self.blocks):
            picked.append(item)
            count += item[3]
            if count >= n:
                break
        out: list[LogLine] = []
        for ts, stream, block, _ in reversed(picked):
            out.extend(LogLine(ts, stream, text) for text in decode_lines(tail_block(block, n)))
        return out[-n:] if n > 0 else []

    def __len__(self) -> int:
        return min(self.lines, self.max_lines)

    def footprint(self) -> int:
        """Bytes the ring holds as Python objects: a quiet service fills its ring over hours, a
        line per block, so its RSS grows long after a flood filled a busy one (`memory`)."""
        per_block = sys.getsizeof((0.0, "", b"", 0)) + sys.getsizeof(0.0)
        return sys.getsizeof(self.blocks) + sum(
            per_block + sys.getsizeof(block) for _, _, block, _ in self.blocks
        )


class ServiceLog:
    """One service's output: log file, per-stream assemblers and a bounded ring of lines."""

    def __init__(
        self,
        path: Path,
        max_bytes: int,
        backups: int,
        ring: int = 5000,
        on_error: ErrorCallback | None = None,
    ) -> None:
        self.file = RotatingFile(path, max_bytes, backups, on_error)
        self.ring = BlockRing(ring)
        self._asm: dict[str, LineAssembler] = {}
        self.total_lines = 0

    def feed(self, stream: str, data: bytes) -> bytes:
        """Record a chunk; return the whole lines it completed (exact bytes), or b''."""
        asm = self._asm.setdefault(stream, LineAssembler())
        block = asm.feed(data)
        if block:
            self._commit(stream, block, block)
        return block

    def flush(self, stream: str) -> bytes:
        """End of stream: a last line without newline is still a line (written as is)."""
        asm = self._asm.pop(stream, None)
        tail = asm.flush() if asm else b""
        if tail:
            self._commit(stream, tail, tail + b"\n")
        return tail + b"\n" if tail else b""

    def _commit(self, stream: str, raw: bytes, block: bytes) -> None:
        self.file.write(raw)
        n = block.count(b"\n")  # once: a flood's blocks are a MiB each
        self.ring.add(time.time(), stream, block, n)
        self.total_lines += n

    @property
    def error(self) -> str | None:
        return self.file.error

    def tail(self, n: int) -> list[LogLine]:
        return self.ring.tail(n)

    def close(self) -> None:
        self.file.close()
