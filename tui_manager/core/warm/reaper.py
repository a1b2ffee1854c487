"""The manager as a child subreaper, for warm starts (which need Linux): a process forked by a
template whose parent then exits is reparented to the manager, which can then wait for it like
any child (zygote.py). Being a subreaper also brings the services' orphans (a daemon that
double-forked); they are ours to reap once they exit, or they would stay zombies for the
manager's lifetime.

An exited child is reaped here only if nobody else waits for it: it is not a child the manager
started itself (`known`: services, templates, the watchdog, ...; those are reaped by their
owners), and it has been a zombie for a whole period (every owner in this process, asyncio's
child watcher included, reaps within milliseconds of the exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

from ...platform.procfs import my_children, process_state

PERIOD = 1.0
OWNED: set[int] = set()  # children the manager started and waits for elsewhere (the watchdog)


class OrphanReaper:
    def __init__(self, known: Callable[[], set[int]]) -> None:
        self.known = known
        self.reaped = 0
        self._suspects: set[int] = set()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._timer is not None

    def start(self) -> None:
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(PERIOD, self._tick)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self.sweep()
        self._timer = asyncio.get_running_loop().call_later(PERIOD, self._tick)

    def sweep(self) -> None:
        known = self.known()
        zombies = {p for p in my_children() - known if process_state(p) == "Z"}
        for pid in zombies & self._suspects:  # a zombie for a whole period: an orphan's
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
                self.reaped += 1
        self._suspects = zombies - self._suspects
