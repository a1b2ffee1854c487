"""The watchdog program: children die with the manager, even when the manager is SIGKILLed.

Run by the manager as `python watchdog.py RUN_ID TABLE` in its own session, with a pipe from the
manager on stdin. While the manager lives it writes "+PGID" for every process group it starts
and "-PGID" once that group is empty. EOF on the pipe means the manager exited or died: every
group still listed is signalled (killpg), and so is every process whose environment carries the
run's marker (a grandchild that left its group with setsid). SIGTERM first, SIGKILL after
TERM_GRACE, until nothing is left or GIVE_UP seconds passed.

TABLE says how to find the marked processes: "procfs" reads /proc (Linux: no imports, starts in
milliseconds, run with -S), "psutil" asks psutil (macOS, and Linux in portable mode).

Standard library only (psutil where asked), and it must never fail: it is the last line.
It runs in the manager's own interpreter.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time

TERM_GRACE = 0.8
GIVE_UP = 5.0
MARKER_VAR = "AUTOGPT_DEV_MARK"


def read_groups() -> set[int]:
    """Follow the manager's messages until EOF; the groups that are still in use."""
    groups: set[int] = set()
    pending = b""
    while True:
        try:
            data = os.read(0, 4096)
        except InterruptedError:
            continue
        except OSError:
            data = b""
        if not data:
            return groups
        pending += data
        *lines, pending = pending.split(b"\n")
        for line in lines:
            try:
                sign, pgid = line[:1], int(line[1:])
            except ValueError:
                continue
            if sign == b"+":
                groups.add(pgid)
            elif sign == b"-":
                groups.discard(pgid)


def left_procfs(prefix: str, groups: set[int], me: int) -> list[int]:
    """Live (not zombie) processes in one of `groups` or carrying the run's marker."""
    needle = (MARKER_VAR + "=" + prefix).encode()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                state, _ppid, pgrp = f.read().rsplit(b")", 1)[1].split()[:3]
            if state == b"Z":
                continue
            if int(pgrp) in groups:
                out.append(int(d))
                continue
            with open(f"/proc/{d}/environ", "rb") as f:
                env = f.read()
        except (OSError, ValueError):
            continue
        if any(v.startswith(needle) for v in env.split(b"\0")):
            out.append(int(d))
    return out


def left_psutil(prefix: str, groups: set[int], me: int) -> list[int]:
    import psutil

    out = []
    for proc in psutil.process_iter(["environ", "status"], ad_value=None):
        if proc.pid == me or proc.info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        try:
            in_group = os.getpgid(proc.pid) in groups
        except OSError:
            in_group = False
        env = proc.info.get("environ") or {}
        if in_group or env.get(MARKER_VAR, "").startswith(prefix):
            out.append(proc.pid)
    return out


def main() -> int:
    prefix, table = sys.argv[1], sys.argv[2]
    left = left_procfs if table == "procfs" else left_psutil
    me = os.getpid()
    groups = read_groups()
    start = time.monotonic()
    sig = signal.SIGTERM
    while time.monotonic() - start < GIVE_UP:
        for pgid in list(groups):
            try:
                os.killpg(pgid, sig)  # first: catches a fork racing the sweep
            except OSError:  # nobody is left in it
                groups.discard(pgid)
        try:
            pids = left(prefix, groups, me)
        except Exception:  # a table we cannot read: the groups are all we have
            pids = list(groups)
        if not pids:
            return 0
        for p in pids:
            with contextlib.suppress(OSError):
                os.kill(p, sig)
        if time.monotonic() - start > TERM_GRACE:
            sig = signal.SIGKILL
        time.sleep(0.05)
    return 1


if __name__ == "__main__":
    sys.exit(main())
