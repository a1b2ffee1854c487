"""The runtime record of one service and the snapshot row views receive."""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config.model import ServiceConfig
from .logs import ServiceLog
from .process import ChildProcess
from .states import State


@dataclass(frozen=True)
class ServiceStatus:
    """What every view (dashboard, `status`, socket) knows of a service."""

    name: str
    state: str
    pid: int | None
    started_at: float | None
    ready_at: float | None
    restarts: int
    exit_code: int | None
    exit_signal: int | None
    reason: str | None
    probe: str | None
    foreground: bool
    depends_on: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["uptime"] = (
            round(time.time() - self.started_at, 3) if self.started_at and self.pid else None
        )
        return d


@dataclass
class Service:
    name: str
    cfg: ServiceConfig
    log: ServiceLog
    foreground: bool = False
    target: Callable[[], object] | None = None  # AppProcess body, instead of a command
    state: State = State.PENDING
    child: ChildProcess | None = None
    lifecycle: asyncio.Task[None] | None = None
    crashes: deque[float] = field(default_factory=deque)
    restarts: int = 0
    spawns: int = 0
    exit_code: int | None = None
    exit_signal: int | None = None
    reason: str | None = None
    probe: str | None = None
    started_at: float | None = None
    ready_at: float | None = None
    ever_ready: bool = False
    stop_requested: bool = False
    log_pattern: re.Pattern[str] | None = None
    log_matched: asyncio.Event = field(default_factory=asyncio.Event)

    def status(self, depends_on: dict[str, str]) -> ServiceStatus:
        return ServiceStatus(
            name=self.name,
            state=str(self.state),
            pid=self.child.pid if self.child and self.child.running else None,
            started_at=self.started_at,
            ready_at=self.ready_at,
            restarts=self.restarts,
            exit_code=self.exit_code,
            exit_signal=self.exit_signal,
            reason=self.reason,
            probe=self.probe,
            foreground=self.foreground,
            depends_on=depends_on,
        )
