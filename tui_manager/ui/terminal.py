"""The terminal under the dashboard can disappear (a closed window, a dropped ssh session) or
stop reading (ctrl+s, a frozen ssh connection).

Textual's driver writes to `sys.__stderr__` from a writer thread with a bounded queue. On a
hung-up terminal its first write fails with EIO and kills that thread; on a terminal that stops
reading its write blocks. Either way the queue fills and the next write from the event loop
blocks forever: the engine shares that loop, so nothing is supervised and even SIGTERM is never
handled. While the dashboard runs, `sys.__stderr__` is a stream that never blocks and never
raises: it hands the bytes to a BoundedWriter (our own writer thread, a bound on what waits).
Past the bound, frames are dropped, and once the terminal reads again the whole screen is
repainted. A terminal that is gone is dropped to; the runner's SIGHUP handler stops the stack.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Iterator
from typing import TextIO

from ..output import BoundedWriter

BOUND = 1 << 20  # a few seconds of frames: past it the terminal is not reading


class GuardedStream(io.TextIOBase):
    def __init__(self, stream: TextIO, on_resumed: Callable[[], None] | None = None) -> None:
        self._stream = stream
        self._writer = BoundedWriter(
            stream.fileno(), bound=BOUND, frames=True, on_resumed=on_resumed
        )

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    @property
    def gone(self) -> bool:
        return self._writer.closed

    def write(self, text: str) -> int:
        self._writer.write(text.encode(self._stream.encoding or "utf-8", "replace"))
        return len(text)

    def flush(self) -> None:
        """Nothing to do: the writer thread writes as soon as it can."""

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def finish(self, timeout: float = 1.0) -> None:
        """Let the last frames (the terminal's restore sequences) out, within a deadline."""
        self._writer.close(timeout)


@contextlib.contextmanager
def guarded_terminal(on_resumed: Callable[[], None] | None = None) -> Iterator[None]:
    """sys.__stderr__ (what the Linux driver writes to) guarded for the dashboard's lifetime."""
    original = sys.__stderr__
    if original is None:
        yield
        return
    guarded = GuardedStream(original, on_resumed)
    sys.__stderr__ = guarded  # type: ignore[assignment,misc]  # (read at the driver's start)
    try:
        yield
    finally:
        sys.__stderr__ = original  # type: ignore[misc]
        guarded.finish()
