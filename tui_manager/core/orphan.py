"""Children die with the manager, even when the manager is SIGKILLed.

Three layers, because each alone has a hole:
1. PR_SET_PDEATHSIG in each direct child: the kernel signals it when the manager dies.
   It reaches direct children only.
2. Every child (and so every descendant, which inherits the environment) carries the run marker
   `AUTOGPT_DEV_MARK=<run id>:<service>`; stops sweep /proc for it, so double-forked setsid
   grandchildren are found even after their parent is gone.
3. A watchdog process, in its own session, holds the read end of a pipe from the manager. When the
   manager dies the pipe closes, and the watchdog kills every process carrying the run's marker.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
_libc: ctypes.CDLL | None = None
# fds only the manager may hold; a forked (not exec'd) child closes them first, or the watchdog's
# pipe would stay open after the manager dies.
MANAGER_ONLY_FDS: set[int] = set()


def set_parent_death_signal(sig: int) -> None:
    """Linux only; a no-op elsewhere. Safe to call between fork and exec."""
    global _libc
    if not sys.platform.startswith("linux"):
        return
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    _libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)


_VAR = b"AUTOGPT_DEV_MARK="
# One /proc sweep serves every caller for MAX_AGE seconds: 200 services stopping at once would
# otherwise each read every process's environment on every poll (quadratic).
MAX_AGE = 0.02
_index: tuple[float, dict[str, list[int]], dict[int, list[int]]] = (0.0, {}, {})


def _sweep() -> tuple[dict[str, list[int]], dict[int, list[int]]]:
    """marker value -> pids, and parent pid -> child pids, in one pass over /proc."""
    me = os.getpid()
    index: dict[str, list[int]] = {}
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
        except (OSError, IndexError, ValueError):
            continue
        start = env.find(_VAR)
        if start < 0 or (start > 0 and env[start - 1] != 0):
            continue
        end = env.find(b"\0", start)
        value = env[start + len(_VAR) : end if end >= 0 else None]
        index.setdefault(value.decode(errors="replace"), []).append(int(entry))
    return index, children


def _fresh() -> tuple[float, dict[str, list[int]], dict[int, list[int]]]:
    global _index
    now = time.monotonic()
    if now - _index[0] > MAX_AGE:
        _index = (now, *_sweep())
    return _index


def descendants(pid: int) -> list[int]:
    """Every descendant of pid (by parent links, so also those that left its session)."""
    children = _fresh()[2]
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def marked_pids(marker: str, prefix: bool = False) -> list[int]:
    """Pids whose environment has MARKER_VAR=marker (or a value starting with it, if prefix).
    Callers must treat a pid as a candidate (it may have died since the sweep)."""
    index = _fresh()[1]
    if prefix:
        return [p for value, pids in index.items() if value.startswith(marker) for p in pids]
    return list(index.get(marker, []))


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

        assert self._proc.stdin is not None
        self._fd = self._proc.stdin.fileno()
        MANAGER_ONLY_FDS.add(self._fd)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def close(self, timeout: float = 5) -> None:
        MANAGER_ONLY_FDS.discard(self._fd)
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout)
