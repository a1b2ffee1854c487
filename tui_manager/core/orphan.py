"""Children die with the manager, even when the manager is SIGKILLed.

Three layers, because each alone has a hole:
1. PR_SET_PDEATHSIG in each direct child: the kernel signals it when the manager dies.
   It reaches direct children only.
2. Every child (and so every descendant, which inherits the environment) carries the run marker
   `AUTOGPT_DEV_MARK=<run id>:<service>`; stops sweep /proc for it (base/procfs.py), so
   double-forked setsid grandchildren are found even after their parent is gone.
3. A watchdog process, in its own session, holds the read end of a pipe from the manager. When the
   manager dies the pipe closes, and the watchdog kills every process carrying the run's marker.
"""

from __future__ import annotations

import contextlib
import ctypes
import subprocess
import sys
import threading

from .reaper import OWNED

PR_SET_PDEATHSIG = 1
_libc: ctypes.CDLL | None = None


def set_parent_death_signal(sig: int) -> None:
    """Linux only; a no-op elsewhere. Safe to call between fork and exec."""
    global _libc
    if not sys.platform.startswith("linux"):
        return
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    _libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


# The watchdog imports nothing heavy: it must start in milliseconds and never fail.
_WATCHDOG = r"""
import os, signal, sys, time
needle = ("AUTOGPT_DEV_MARK=" + sys.argv[1]).encode()
me = os.getpid()
sys.stdin.buffer.read()  # returns at EOF: the manager exited or died
def marked():
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != me:
            try:
                with open("/proc/%s/environ" % d, "rb") as f:
                    env = f.read()
            except OSError:
                continue
            if any(v.startswith(needle) for v in env.split(b"\0")):
                out.append(int(d))
    return out
start = time.monotonic()
sig = signal.SIGTERM
while time.monotonic() - start < 5:
    pids = marked()
    if not pids:
        break
    for p in pids:
        try:
            os.kill(p, sig)
        except OSError:
            pass
    if time.monotonic() - start > 0.8:
        sig = signal.SIGKILL
    time.sleep(0.05)
"""


class Watchdog:
    """Kills the run's marked processes once the manager is gone. close() on a clean exit."""

    def __init__(self, run_id: str) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _WATCHDOG, run_id + ":"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl+C in the terminal must not reach it
            close_fds=True,
        )
        OWNED.add(self._proc.pid)  # reaped by its own thread, never by the orphan reaper

    @property
    def pid(self) -> int:
        return self._proc.pid

    def close(self) -> None:
        """A clean exit: it sees the pipe close, finds nothing left, and exits on its own. It is
        reaped in the background: the manager's exit never waits for it."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        threading.Thread(target=self._proc.wait, name="watchdog-reaper", daemon=True).start()
