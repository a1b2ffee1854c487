"""The end of a log file, rotated backups included, and `tail -F`: for `logs`, the attach
client and the MCP server."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import BinaryIO


def rotated(path: Path) -> list[Path]:
    """The file and its backups, newest first, as far as they exist (path, path.1, ...)."""
    out = []
    for i in range(0, 1000):
        f = path if i == 0 else path.with_name(f"{path.name}.{i}")
        if not f.exists():
            break
        out.append(f)
    return out


Position = tuple[int, int]  # (inode, offset): where a tail stopped, for follow to go on from


def tail_bytes(path: Path, n: int) -> bytes:
    """The last n whole lines of a log, reaching into rotated backups when the file is short.
    Reads from the end in blocks, so a 1 GB log costs what its tail costs."""
    return tail_with_position(path, n)[0]


def tail_with_position(path: Path, n: int) -> tuple[bytes, Position]:
    """The last n lines and where the live file ended when they were read, so `logs -n N -f`
    neither loses nor repeats a line written in between."""
    chunks: list[bytes] = []
    count = 0
    position: Position = (-1, 0)  # no live file yet: whatever appears is unseen
    for f in rotated(path):
        try:
            with f.open("rb") as fh:
                pos = fh.seek(0, os.SEEK_END)
                if f == path:
                    position = (os.fstat(fh.fileno()).st_ino, pos)
                if n <= 0:
                    break
                while pos > 0 and count <= n:
                    step = min(pos, 1 << 16)
                    pos -= step
                    fh.seek(pos)
                    block = fh.read(step)
                    chunks.insert(0, block)
                    count += block.count(b"\n")
        except OSError:
            continue
        if count > n or n <= 0:
            break
    if n <= 0:
        return b"", position
    lines = b"".join(chunks).splitlines(keepends=True)
    return b"".join(lines[-n:]), position


def follow(path: Path, out: BinaryIO, poll: float = 0.05, start: Position | None = None) -> None:
    """tail -F: keep printing what is appended; reopen when the file is rotated. Starts where
    a tail stopped (`start`), else at the end. Returns when `out` is closed (a pager that quit)
    or on KeyboardInterrupt."""
    f = path.open("rb") if path.exists() else None
    try:
        if f:
            if start is not None and os.fstat(f.fileno()).st_ino == start[0]:
                f.seek(start[1])
            elif start is None:
                f.seek(0, os.SEEK_END)
            # else: rotated since the tail was read; the new file is all unseen
        while True:
            if f is None:
                if path.exists():
                    f = path.open("rb")
                else:
                    time.sleep(poll)
                    continue
            data = f.read(65536)
            if data:
                out.write(data)
                out.flush()
                continue
            try:
                moved = os.stat(path).st_ino != os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                moved = True
            if moved:
                rest = f.read()
                if rest:
                    out.write(rest)
                    out.flush()
                f.close()
                f = None
                continue
            time.sleep(poll)
    finally:
        if f is not None:
            f.close()
