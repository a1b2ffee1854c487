"""The runtime record of one service (the engine's own; views get ServiceStatus rows)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from ..config.spec import ServiceSpec
from .bootstrap import Target
from .logs import ServiceLog
from .probes import Probe
from .process import ChildProcess
from .states import NotReady, State
from .status import ServiceStatus


@dataclass
class Service:
    name: str
    spec: ServiceSpec
    log: ServiceLog
    foreground: bool = False
    target: Target | None = None  # an AppProcess, instead of a command
    ready_probe: Probe | None = None
    health_probe: Probe | None = None
    state: State = State.PENDING
    child: ChildProcess | None = None
    task: asyncio.Task[None] | None = None  # the lifecycle: deps -> spawn -> ready -> exit -> ...
    crashes: deque[float] = field(default_factory=deque)
    restarts: int = 0
    spawns: int = 0
    exit_code: int | None = None
    exit_signal: int | None = None
    reason: str | None = None
    probe: str | None = None  # the last probe's detail, for the views
    not_ready: NotReady | None = None
    started_at: float | None = None
    ready_at: float | None = None
    stop_requested: bool = False
    base_env: dict[str, str] | None = None  # the environment it was spawned with (ours aside)

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
        )
