"""The runtime record of one service (the engine's own; views get ServiceStatus rows)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from ..config.spec import ServiceSpec
from .logs import ServiceLog
from .probes import Probe
from .process import ChildProcess
from .states import NotReady, State
from .status import ServiceStatus
from .tracebacks import TracebackReader
from .warm.bootstrap import Target


class Service:
    def __init__(
        self, name: str, spec: ServiceSpec, log: ServiceLog, foreground: bool = False
    ) -> None:
        self.name = name
        self.spec = spec
        self.log = log
        self.foreground = foreground
        self.target: Target | None = None  # an AppProcess, instead of a command
        self.ready_probe: Probe | None = None
        self.health_probe: Probe | None = None
        self.state = State.PENDING
        self.child: ChildProcess | None = None
        self.task: asyncio.Task[None] | None = None  # deps -> spawn -> ready -> exit -> ...
        # start/stop/restart of one service, one at a time: two restarts at once (a reload and
        # a user's) would otherwise both launch it.
        self.commands = asyncio.Lock()
        self.crashes: deque[float] = deque()
        self.restarts = 0
        self.spawns = 0
        self.exit_code: int | None = None
        self.exit_signal: int | None = None
        self.reason: str | None = None
        self.probe: str | None = None  # the last probe's detail, for the views
        self.not_ready: NotReady | None = None
        self.started_at: float | None = None
        self.ready_at: float | None = None
        self.stop_requested = False
        self.base_env: dict[str, str] | None = None  # what it was spawned with (ours aside)
        # Old processes still finishing their requests after an overlapping restart.
        self.draining: set[ChildProcess] = set()
        # The tracebacks of the current process's output, per stream (tracebacks.py).
        self.readers: dict[str, TracebackReader] = {}
        self.last_error: dict[str, Any] | None = None  # what it last crashed with
        self.exit_error: dict[str, Any] | None = None  # what its last exit crashed with
        self.ever_ready = False  # this start (a crash before it: dev mode waits for a fix)

    def status(self, depends_on: dict[str, str]) -> ServiceStatus:
        return ServiceStatus(
            name=self.name,
            state=str(self.state),
            pid=self.child.pid if self.child and self.child.running else None,
            started_at=self.started_at,
            ready_at=self.ready_at,
            restarts=self.restarts,
            spawns=self.spawns,
            exit_code=self.exit_code,
            exit_signal=self.exit_signal,
            reason=self.reason,
            probe=self.probe,
            foreground=self.foreground,
            depends_on=depends_on,
            log_error=self.log.error,
            last_error=self.last_error,
        )
