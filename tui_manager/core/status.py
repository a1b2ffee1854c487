"""What every view knows of a service: one immutable row (stdlib only)."""

from __future__ import annotations

import time
from typing import Any, NamedTuple


class ServiceStatus(NamedTuple):
    name: str
    state: str
    pid: int | None = None
    started_at: float | None = None
    ready_at: float | None = None
    restarts: int = 0
    spawns: int = 0
    exit_code: int | None = None
    exit_signal: int | None = None
    reason: str | None = None
    probe: str | None = None
    foreground: bool = False
    depends_on: dict[str, str] = {}
    log_error: str | None = None  # the log file cannot be written (a full disk): why
    # dev mode: its warm template (state, pid, rss, reason) and how it last started
    warm: dict[str, Any] | None = None
    listen: tuple[str, ...] = ()  # the sockets the manager holds for it
    last_error: dict[str, Any] | None = None  # the Python error it last crashed with

    @property
    def uptime(self) -> float | None:
        if self.started_at is None or self.pid is None:
            return None
        return time.time() - self.started_at

    def to_dict(self) -> dict[str, Any]:
        d = self._asdict()
        up = self.uptime
        d["uptime"] = None if up is None else round(up, 3)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ServiceStatus:
        return cls(**{k: v for k, v in d.items() if k in cls._fields})
