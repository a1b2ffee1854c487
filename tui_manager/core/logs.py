"""Service output: line assembly, the rotating log file (exact bytes), and the in-memory ring.

The pipe reader hands us arbitrary chunks. We write only whole lines to the file (so stdout and
stderr never interleave mid-line), keep the partial tail per stream, and flush it at EOF.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

# A view never needs more than this of one line; the file keeps all of it.
VIEW_LINE_MAX = 16_384


@dataclass(frozen=True, slots=True)
class LogLine:
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


class RotatingFile:
    """Appends bytes to `path`, rotating to path.1 .. path.N at whole-write boundaries."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size

    def write(self, data: bytes) -> None:
        if self._fd < 0:
            return  # closed at manager exit; nothing may write after that
        if self._size and self._size + len(data) > self.max_bytes:
            self._rotate()
        view = memoryview(data)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._size += len(data)

    def _rotate(self) -> None:
        os.close(self._fd)
        if self.backups > 0:
            for i in range(self.backups - 1, 0, -1):
                src = self.path.with_name(f"{self.path.name}.{i}")
                if src.exists():
                    os.replace(src, self.path.with_name(f"{self.path.name}.{i + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (os.O_TRUNC if self.backups == 0 else 0)
        self._fd = os.open(self.path, flags, 0o644)
        self._size = 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class ServiceLog:
    """One service's output: log file, per-stream assemblers and a bounded ring of lines."""

    def __init__(self, path: Path, max_bytes: int, backups: int, ring: int = 5000) -> None:
        self.file = RotatingFile(path, max_bytes, backups)
        self.ring: deque[LogLine] = deque(maxlen=ring)
        self._asm: dict[str, LineAssembler] = {}
        self.total_lines = 0

    def feed(self, stream: str, data: bytes) -> list[str]:
        """Record a chunk; return the complete lines it finished, decoded for views."""
        asm = self._asm.setdefault(stream, LineAssembler())
        block = asm.feed(data)
        return self._commit(stream, block) if block else []

    def flush(self, stream: str) -> list[str]:
        """End of stream: a last line without newline is still a line (written as is)."""
        asm = self._asm.pop(stream, None)
        tail = asm.flush() if asm else b""
        return self._commit(stream, tail) if tail else []

    def _commit(self, stream: str, block: bytes) -> list[str]:
        self.file.write(block)
        lines = decode_lines(block)
        now = time.time()
        keep = lines[-(self.ring.maxlen or 1) :]  # a flood must not build objects it drops
        self.ring.extend(LogLine(now, stream, ln) for ln in keep)
        self.total_lines += len(lines)
        return lines

    def tail(self, n: int) -> list[LogLine]:
        if n <= 0:
            return []
        return list(self.ring)[-n:]

    def close(self) -> None:
        self.file.close()
