"""The Engine of a stack that runs in another process, over its control socket (`attach`, the
web dashboard). One `subscribe` connection brings the rows, the recent lines of every service
(with their timestamps) and then every change; commands go over their own short connections.

Differences from the in-process engine, by nature: request_shutdown and force_kill detach this
view (the stack goes on running); `wait` returns the manager's exit code when it stops, 0 when
this view detached.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from pathlib import Path
from typing import Any

from ..base import paths
from ..core.engine import EngineError, EngineInfo, UnknownService
from ..core.events import (
    KEEP_EVENTS,
    EventBus,
    Lifecycle,
    LogLines,
    ShutdownStarted,
    StateChanged,
    Subscriber,
    Unsubscribe,
)
from ..core.logs import LogLine
from ..core.status import ServiceStatus
from . import wire
from .client import NotRunning, Refused, async_request

HISTORY = 1000  # lines per service fetched on attach (and kept)
READ_LIMIT = 64 << 20  # one streamed message may carry a 1 MiB block, JSON-escaped


class RemoteEngine:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.bus = EventBus()
        self._info: EngineInfo | None = None
        self._rows: dict[str, ServiceStatus] = {}
        self._lines: dict[str, deque[LogLine]] = {}
        self._events: deque[Lifecycle] = deque(maxlen=KEEP_EVENTS)
        self._stopping = False
        self._code: int | None = None
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- connecting ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect and take the snapshot; raises ConnectionError if no manager answers."""
        reader, writer = await self._open()
        writer.write(wire.encode(wire.Request("subscribe", logs=True, history=HISTORY).to_wire()))
        first = wire.decode(await reader.readline())
        self._info = wire.info_from_wire(first["manager"])
        self._rows = {d["name"]: wire.status_from_wire(d) for d in first["services"]}
        for name in self._info.order:
            self._lines[name] = deque(maxlen=HISTORY)
        for rows in first.get("logs", {}).values():
            for row in rows:
                name, line = wire.line_from_wire(row)
                self._lines.setdefault(name, deque(maxlen=HISTORY)).append(line)
        with contextlib.suppress(OSError, KeyError, ValueError):
            for ev in (await self._request(wire.Request("history", since=0.0)))["events"]:
                msg = wire.message_from_wire(ev)
                if isinstance(msg, Lifecycle):
                    self._events.append(msg)
        self._task = asyncio.get_running_loop().create_task(self._follow(reader, writer))

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        path = paths.socket_path(self.state_dir)
        return await asyncio.open_unix_connection(str(path), limit=READ_LIMIT)

    async def _follow(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                msg = wire.message_from_wire(wire.decode(line))
                if msg is not None:
                    self._apply(msg)
                    self.bus.publish(msg)
        except (OSError, ValueError):
            pass
        finally:
            writer.close()
            self._stopping = True
            self._done.set()  # the manager is gone: so is this view

    def _apply(self, msg: object) -> None:
        if isinstance(msg, StateChanged):
            self._rows[msg.service] = msg.status
        elif isinstance(msg, LogLines):
            ring = self._lines.setdefault(msg.service, deque(maxlen=HISTORY))
            ring.extend(LogLine(msg.ts, msg.stream, t) for t in msg.tail(HISTORY))
        elif isinstance(msg, ShutdownStarted):
            self._stopping = True
        elif isinstance(msg, Lifecycle):
            self._events.append(msg)
            if msg.event == "manager_stop":  # the end of the stack: and of this view
                self._code = msg.extra.get("code")
                self._stopping = True
                self._done.set()

    async def _request(self, req: wire.Request) -> dict[str, Any]:
        try:
            return await async_request(self.state_dir, req)
        except (Refused, NotRunning) as e:
            raise EngineError(str(e)) from None

    # -- the Engine seam -------------------------------------------------------------------------
    @property
    def info(self) -> EngineInfo:
        if self._info is None:
            raise RuntimeError("RemoteEngine.start() first")
        return self._info

    @property
    def shutting_down(self) -> bool:
        return self._stopping

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def snapshot(self) -> list[ServiceStatus]:
        return [self._rows[n] for n in self.info.order if n in self._rows]

    def subscribe(self, callback: Subscriber) -> tuple[list[ServiceStatus], Unsubscribe]:
        return self.snapshot(), self.bus.subscribe(callback)

    def _check(self, name: str) -> None:
        if name not in self.info.order:
            raise UnknownService(name, self.info.order)

    def history(self, name: str, n: int = 100) -> list[LogLine]:
        self._check(name)
        return list(self._lines.get(name, ()))[-n:] if n > 0 else []

    def log_path(self, name: str) -> Path:
        self._check(name)
        return paths.log_path(self.state_dir, name)

    def events_since(self, ts: float) -> list[Lifecycle]:
        return [ev for ev in self._events if ev.ts >= ts]

    async def _act(self, cmd: str, name: str, reason: str) -> None:
        self._check(name)
        await self._request(wire.Request(cmd, services=(name,), wait=False, reason=reason))

    async def start_service(self, name: str, reason: str = "user") -> None:
        await self._act("start", name, reason)

    async def stop_service(self, name: str, reason: str = "user") -> None:
        await self._act("stop", name, reason)

    async def restart_service(self, name: str, reason: str = "user") -> None:
        await self._act("restart", name, reason)

    async def wait_settled(self, name: str, timeout: float = 60) -> ServiceStatus:
        self._check(name)
        answer = await self._request(wire.Request("wait", services=(name,), timeout=timeout))
        return wire.status_from_wire(answer["services"][0])

    def request_shutdown(self, reason: str = "detach", exit_code: int | None = None) -> None:
        """Detach: the stack goes on running; only this view goes away."""
        if self._task:
            self._task.cancel()
        self._done.set()

    def force_kill(self) -> None:
        self.request_shutdown()

    async def wait(self) -> int:
        await self._done.wait()
        return self._code if self._code is not None else 0
