"""The machine a measurement runs on: one measurement at a time, and how busy it was.

A bench and a soak of this project take the same lock; a second one refuses to start instead
of measuring a machine that the first keeps busy. Both record the load average at their start
and end, and a report says when the machine was busy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCK = Path(tempfile.gettempdir()) / "autogpt-dev-measurement.lock"
HELD = "AUTOGPT_DEV_MEASURING"  # set for the sections a bench runs: they share its lock


@contextlib.contextmanager
def alone(what: str) -> Iterator[None]:
    """Hold the machine's measurement lock for `what`, or exit 3 saying who holds it. Every
    tool measured writes and reads its bytecode caches, as on a user's machine (a
    PYTHONDONTWRITEBYTECODE in the shell would make each start compile every module again)."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    if os.environ.get(HELD) == "1":  # a section of the bench that holds it
        yield
        return
    fd = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
        print(
            f"another measurement is running ({holder}): not measuring a busy machine",
            file=sys.stderr,
        )
        os.close(fd)
        raise SystemExit(3) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{what}, pid {os.getpid()}".encode(), 0)
    os.environ[HELD] = "1"
    try:
        yield
    finally:
        os.environ.pop(HELD, None)
        os.ftruncate(fd, 0)
        os.close(fd)


def load() -> tuple[float, float, float]:
    return os.getloadavg()


def busy(loads: list[tuple[float, float, float]]) -> bool:
    """Busy: a 1-minute load average above half the cores (our own work adds some)."""
    cores = os.cpu_count() or 1
    return any(one > max(1.0, cores / 2) for one, _, _ in loads)


def describe(start: tuple[float, float, float], end: tuple[float, float, float]) -> str:
    """The load before the run says whether something else kept the machine busy. The load at
    the end is the run's own work too (a bench ends with reload floods, a soak with its
    chaos): it is shown, never judged (it had marked every full run busy)."""
    fmt = "/".join
    text = (
        f"load average (1/5/15 min) {fmt(f'{x:.2f}' for x in start)} at the start, "
        f"{fmt(f'{x:.2f}' for x in end)} at the end (the run's own work included)"
    )
    verdict = (
        ": **the machine was busy when it started**" if busy([start]) else ": idle at the start"
    )
    return text + verdict
