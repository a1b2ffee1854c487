"""The engine seen through the control socket: what the dashboard needs of a Supervisor, for a
stack that runs in another process (`autogpt-dev attach`, the web dashboard).

State comes from the socket's `events` stream (with a `status` refresh after each event);
output comes from tailing the log files, which hold exactly what the services wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..config.load import Config
from ..core.events import EventBus, Lifecycle, LogLines, StateChanged
from ..core.logs import LogLine, decode_lines, tail_block
from ..core.service import ServiceStatus
from .statedir import StateDir

POLL = 0.1
_STATUS_FIELDS = {f.name for f in fields(ServiceStatus)}


@dataclass
class _RemoteService:
    stop_requested: bool = False  # the dashboard's crash toasts ask this


class RemoteSupervisor:
    """Duck-types the part of `Supervisor` the dashboard uses."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.bus = EventBus()
        self.state = StateDir(config.state_dir)
        self.statuses: list[ServiceStatus] = []
        self.order: list[str] = []
        self.services: dict[str, _RemoteService] = {}
        self.foreground: str | None = None
        self.shutting_down = False
        self._done = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._offsets: dict[str, int] = {}

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        reader, writer = await asyncio.open_unix_connection(str(self.state.socket_path()))
        writer.write(b'{"cmd": "events"}\n')
        first = json.loads(await reader.readline())
        self._apply([s for s in first["services"]])
        status = await self._request({"cmd": "status"})
        self.foreground = status["manager"].get("foreground")
        for name in self.order:
            path = Path(self.log_path(name))
            self._offsets[name] = path.stat().st_size if path.exists() else 0
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._events(reader, writer)),
            loop.create_task(self._tail_logs()),
        ]

    async def wait(self) -> int:
        await self._done.wait()
        return 0

    def request_shutdown(self, reason: str = "detach", exit_code: int | None = None) -> None:
        """Detach: the stack goes on running; only this view goes away."""
        for task in self._tasks:
            task.cancel()
        self._done.set()

    def force_kill(self) -> None:
        self.request_shutdown()

    # -- the views' seam -------------------------------------------------------------------------
    def snapshot(self) -> list[ServiceStatus]:
        return list(self.statuses)

    def log_path(self, name: str) -> str:
        return str(self.state.logs / f"{name}.log")

    def logs(self, name: str, n: int = 100) -> list[LogLine]:
        try:
            with open(self.log_path(name), "rb") as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 2_000_000))
                data = f.read()
        except OSError:
            return []
        if not data.endswith(b"\n"):
            data = data[: data.rfind(b"\n") + 1]
        return (
            [LogLine(0.0, "stdout", t) for t in decode_lines(tail_block(data, n))] if data else []
        )

    async def start_service(self, name: str, reason: str = "user") -> None:
        await self._request({"cmd": "start", "services": [name], "wait": False})

    async def stop_service(self, name: str, reason: str = "user") -> None:
        await self._request({"cmd": "stop", "services": [name], "wait": False})

    async def restart_service(self, name: str, reason: str = "user") -> None:
        await self._request({"cmd": "restart", "services": [name], "wait": False})

    # -- plumbing --------------------------------------------------------------------------------
    async def _request(self, req: dict[str, Any]) -> dict[str, Any]:
        reader, writer = await asyncio.open_unix_connection(str(self.state.socket_path()))
        try:
            writer.write(json.dumps(req).encode() + b"\n")
            answer: dict[str, Any] = json.loads(await reader.readline())
            return answer
        finally:
            writer.close()

    def _apply(self, rows: list[dict[str, Any]]) -> None:
        self.statuses = [
            ServiceStatus(**{k: v for k, v in r.items() if k in _STATUS_FIELDS}) for r in rows
        ]
        self.order = [s.name for s in self.statuses]
        for name in self.order:
            self.services.setdefault(name, _RemoteService())

    async def _events(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                ev = json.loads(line)
                if ev.get("event") == "state":
                    self.bus.publish(
                        StateChanged(ev["service"], ev["old"], ev["new"], ev.get("reason"))
                    )
                else:
                    extra = {
                        k: v for k, v in ev.items() if k not in ("ts", "service", "event", "pid")
                    }
                    self.bus.publish(
                        Lifecycle(ev["service"], ev["event"], ev.get("pid"), extra, ev["ts"])
                    )
                with contextlib.suppress(OSError, ValueError):
                    self._apply((await self._request({"cmd": "status"}))["services"])
                    self.bus.publish(StateChanged("system", "", "", "refresh"))
        finally:
            writer.close()
            self.shutting_down = True
            self._done.set()  # the manager is gone: so is this view

    async def _tail_logs(self) -> None:
        partial: dict[str, bytes] = {}
        while True:
            for name in self.order:
                path = Path(self.log_path(name))
                try:
                    size = path.stat().st_size
                    if size < self._offsets.get(name, 0):  # rotated
                        self._offsets[name] = 0
                    with path.open("rb") as f:
                        f.seek(self._offsets.get(name, 0))
                        data = f.read(4_000_000)
                except OSError:
                    continue
                if not data:
                    continue
                self._offsets[name] = self._offsets.get(name, 0) + len(data)
                data = partial.pop(name, b"") + data
                cut = data.rfind(b"\n") + 1
                if cut < len(data):
                    partial[name] = data[cut:]
                if cut:
                    self.bus.publish(LogLines(name, "stdout", data[:cut]))
            await asyncio.sleep(POLL)
