"""Children die with the manager, even when the manager is SIGKILLed.

Three layers, because each alone has a hole:
1. Where the system has one (Linux), each direct child gets a parent-death signal before it
   runs anything (platform.spawn_prefix). It reaches direct children only.
2. Every child (and so every descendant, which inherits the environment) carries the run marker
   `AUTOGPT_DEV_MARK=<run id>:<service>`; stops sweep the process table for it, so double-forked
   setsid grandchildren are found even after their parent is gone.
3. A watchdog process (platform/watchdog.py), in its own session, holds the read end of a pipe
   from the manager, which tells it every process group it starts and every group that is gone.
   When the manager dies the pipe closes, and the watchdog kills the groups still listed and
   every process carrying the run's marker: on macOS, where layer 1 does not exist, this is
   what stops the direct children.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path

from ..platform import CAPS
from .warm.reaper import OWNED

PROGRAM = Path(__file__).resolve().parent.parent / "platform" / "watchdog.py"


class Watchdog:
    """Kills the run's processes once the manager is gone. close() on a clean exit."""

    def __init__(self, run_id: str) -> None:
        # With procfs it needs nothing but the standard library (-S: it starts in milliseconds);
        # elsewhere it asks psutil, from the manager's own site-packages.
        table = ["-S", str(PROGRAM), run_id + ":", "procfs"] if CAPS.procfs else None
        argv = table or [str(PROGRAM), run_id + ":", "psutil"]
        self._proc = subprocess.Popen(
            [sys.executable, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C in the terminal must not reach it
            close_fds=True,
        )
        OWNED.add(self._proc.pid)  # reaped by its own thread, never by the orphan reaper
        if self._proc.stdin is not None:  # a stopped watchdog must never block the engine
            os.set_blocking(self._proc.stdin.fileno(), False)
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def track(self, pgid: int) -> None:
        """A process group the manager started (a service, in its own session)."""
        self._send(f"+{pgid}\n")

    def untrack(self, pgid: int) -> None:
        """That group is empty now: its number may be reused by someone else's."""
        self._send(f"-{pgid}\n")

    def _send(self, line: str) -> None:
        stdin = self._proc.stdin
        if stdin is None:
            return
        with self._lock, contextlib.suppress(OSError, ValueError):
            # A few bytes into an empty pipe: never blocks in practice (the watchdog reads
            # all the time), and a dead watchdog only costs the message.
            os.write(stdin.fileno(), line.encode())

    def close(self) -> None:
        """A clean exit: it sees the pipe close, finds nothing left, and exits on its own. It is
        reaped in the background: the manager's exit never waits for it."""
        with self._lock:
            if self._proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self._proc.stdin.close()
        threading.Thread(target=self._proc.wait, name="watchdog-reaper", daemon=True).start()
