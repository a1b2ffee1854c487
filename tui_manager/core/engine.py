"""The one seam between the engine and every view (dashboard, headless printer, control server,
attach client, MCP server). Two implementations: the in-process Supervisor and, over the control
socket, control.remote.RemoteEngine; tests/engine_behaviour runs one suite against both.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple, Protocol

from .events import Lifecycle, Subscriber, Unsubscribe
from .logs import LogLine
from .status import ServiceStatus


class UnknownService(KeyError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = sorted(known)

    def __str__(self) -> str:
        return f"unknown service {self.name!r} (known: {', '.join(self.known)})"


class EngineError(RuntimeError):
    """An engine refused a command (the attach client shows the manager's own words)."""


class EngineInfo(NamedTuple):
    name: str  # the stack's name, for headers
    config_path: str
    pid: int  # the manager's
    foreground: str | None
    order: tuple[str, ...]  # the services, in the config's order
    state_dir: str
    keys: dict[str, str] = {}


class Engine(Protocol):
    @property
    def info(self) -> EngineInfo: ...

    @property
    def shutting_down(self) -> bool: ...

    @property
    def finished(self) -> bool: ...

    def snapshot(self) -> list[ServiceStatus]: ...

    def subscribe(self, callback: Subscriber) -> tuple[list[ServiceStatus], Unsubscribe]:
        """The current rows and then every message, with nothing lost in between."""
        ...

    def history(self, name: str, n: int = 100) -> list[LogLine]:
        """The last n lines the service wrote (with their timestamps)."""
        ...

    def log_path(self, name: str) -> Path: ...

    def events_since(self, ts: float) -> list[Lifecycle]: ...

    async def start_service(self, name: str, reason: str = "user") -> None: ...

    async def stop_service(self, name: str, reason: str = "user") -> None: ...

    async def restart_service(self, name: str, reason: str = "user") -> None: ...

    async def wait_settled(self, name: str, timeout: float = 60) -> ServiceStatus: ...

    def request_shutdown(self, reason: str = "user", exit_code: int | None = None) -> None:
        """The orderly stop of the stack (for an attached view: detach)."""
        ...

    def force_kill(self) -> None:
        """Kill everything now (the second Ctrl+C)."""
        ...

    async def wait(self) -> int:
        """Until the stack has stopped: `up`'s exit code."""
        ...
