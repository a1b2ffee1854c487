"""The control socket server: a unix socket (mode 0600, never TCP) speaking wire.py, typed
against the Engine seam only.

Every client has its own task, so a client that connects and never sends costs nothing to the
others. A subscriber has a bounded queue: when it cannot keep up, its log lines are dropped
(and counted, then reported) while lifecycle events still go through; the engine never waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.engine import Engine, UnknownService
from ..core.events import Lifecycle, LogLines, Message
from . import wire
from .memory import MemoryProbe

if TYPE_CHECKING:
    from ..core.logs import BlockRing

MAX_REQUEST = 1 << 20
QUEUE_BYTES = 8 << 20  # log data a subscriber may have pending before lines are dropped
QUEUE_EVENTS = 50_000  # lifecycle/state messages pending before a client is cut off


class ControlServer:
    def __init__(
        self, engine: Engine, path: Path, rings: Callable[[], Iterable[BlockRing]] | None = None
    ) -> None:
        self.engine = engine
        self.path = path
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self.memory = MemoryProbe(rings)

    async def start(self) -> None:
        old_umask = os.umask(0o177)  # the socket is born 0600: no window where others can connect
        try:
            self._server = await asyncio.start_unix_server(
                self._handle, path=str(self.path), limit=MAX_REQUEST
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)

    async def close(self, grace: float = 2.0) -> None:
        """Let answers in flight (a `down` waiting for the stop) go out, then close."""
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=grace)
        if self._server:
            self._server.close()
            for task in self._handlers:
                task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await _send(writer, wire.fail("request too long"))
                    return
                if not line:
                    return
                try:
                    req = wire.parse_request(wire.decode(line))
                except ValueError as e:
                    await _send(writer, wire.fail(f"bad request: {e}"))
                    continue
                if req.cmd in ("subscribe", "events"):
                    await self._stream(writer, req)
                    return
                await _send(writer, await self.dispatch(req))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def dispatch(self, req: wire.Request) -> dict[str, Any]:
        eng = self.engine
        try:
            if req.cmd == "status":
                return wire.ok(
                    manager={
                        **wire.info_to_wire(eng.info),
                        "shutting_down": eng.shutting_down,
                    },
                    services=[s.to_dict() for s in eng.snapshot()],
                )
            if req.cmd in wire.ACTIONS:
                return await self._act(req)
            if req.cmd == "wait":
                names = self._known(req.services)
                rows = await asyncio.gather(*(eng.wait_settled(n, req.timeout) for n in names))
                return wire.ok(services=[r.to_dict() for r in rows])
            if req.cmd == "logs":
                return wire.ok(lines=self._lines(req))
            if req.cmd == "history":
                events = eng.events_since(req.since or 0.0)
                return wire.ok(events=[wire.message_to_wire(e) for e in events])
            if req.cmd == "memory":
                return wire.ok(**self.memory.report(req.n))
            if req.cmd == "down":
                eng.request_shutdown("down")
                return wire.ok(code=await eng.wait())
        except UnknownService as e:
            return wire.fail(str(e))
        return wire.fail(f"unknown command {req.cmd!r}")

    def _known(self, names: tuple[str, ...] | None) -> list[str]:
        order = self.engine.info.order
        for n in names or ():
            if n not in order:
                raise UnknownService(n, order)
        return list(names or order)

    async def _act(self, req: wire.Request) -> dict[str, Any]:
        eng = self.engine
        names = self._known(req.services)
        action = {
            "start": eng.start_service,
            "stop": eng.stop_service,
            "restart": eng.restart_service,
        }[req.cmd]
        await asyncio.gather(*(action(n, req.reason) for n in names))
        if req.wait and req.cmd != "stop":
            await asyncio.gather(*(eng.wait_settled(n, req.timeout) for n in names))
        rows = {s.name: s for s in eng.snapshot()}
        return wire.ok(services=[rows[n].to_dict() for n in names])

    def _lines(self, req: wire.Request) -> list[dict[str, Any]]:
        pattern = re.compile(req.grep) if req.grep else None
        out: list[dict[str, Any]] = []
        filtered = pattern or req.since is not None or req.until is not None
        for name in self._known(req.services):
            lines = self.engine.history(name, wire.MAX_LINES if filtered else req.n)
            picked = [
                ln
                for ln in lines
                if (req.since is None or ln.ts >= req.since)
                and (req.until is None or ln.ts <= req.until)
                and (pattern is None or pattern.search(ln.text))
            ]
            out += [wire.line_to_wire(name, ln) for ln in picked[-req.n :] if req.n]
        out.sort(key=lambda d: d["ts"])  # stable: each service's own order is kept
        return out[-req.n :] if req.n else []

    async def _stream(self, writer: asyncio.StreamWriter, req: wire.Request) -> None:
        pending: deque[tuple[Message, int]] = deque()  # (message, its log bytes)
        dropped: dict[str, int] = {}
        size = [0]
        wake = asyncio.Event()
        lost = asyncio.Event()

        def on_message(msg: Message) -> None:  # on the engine's loop: O(1), never waits
            nbytes = 0
            if isinstance(msg, LogLines):
                if not req.logs:
                    return
                if size[0] > QUEUE_BYTES:
                    dropped[msg.service] = dropped.get(msg.service, 0) + msg.block.count(b"\n")
                    return
                nbytes = len(msg.block)
                size[0] += nbytes
            elif len(pending) > QUEUE_EVENTS:
                lost.set()
                return
            pending.append((msg, nbytes))  # encoded by the sender, not in the engine's call
            wake.set()

        rows, unsubscribe = self.engine.subscribe(on_message)
        try:
            first = wire.ok(
                manager=wire.info_to_wire(self.engine.info),
                services=[r.to_dict() for r in rows],
            )
            if req.history:
                first["logs"] = {
                    r.name: [
                        wire.line_to_wire(r.name, ln)
                        for ln in self.engine.history(r.name, req.history)
                    ]
                    for r in rows
                }
            await _send(writer, first)
            ended = False
            while not lost.is_set() and not ended:
                await wake.wait()
                wake.clear()
                batch = []
                while pending:
                    msg, nbytes = pending.popleft()
                    size[0] -= nbytes
                    batch.append(wire.encode(wire.message_to_wire(msg)))
                    ended |= isinstance(msg, Lifecycle) and msg.event == "manager_stop"
                for service, lines in dropped.items():
                    note = {"event": "dropped", "service": service, "lines": lines}
                    batch.append(wire.encode(note))
                dropped.clear()
                writer.write(b"".join(batch))
                await writer.drain()
        finally:
            unsubscribe()


async def _send(writer: asyncio.StreamWriter, obj: dict[str, Any]) -> None:
    writer.write(wire.encode(obj))
    await writer.drain()
