"""The control socket server: newline-delimited JSON over a unix socket (mode 0600, never TCP).

Requests:  {"cmd": "status"}
           {"cmd": "start" | "stop" | "restart", "services": [...], "wait": true}
           {"cmd": "down"}                      (answers once the stack has stopped)
           {"cmd": "events"}                    (streams lifecycle and state events)
Answers:   {"ok": true, ...} or {"ok": false, "error": "...", "code": 2}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from ..core.events import Lifecycle, Message, StateChanged
from ..core.supervisor import Supervisor, UnknownService

MAX_REQUEST = 1 << 20


class ControlServer:
    def __init__(self, supervisor: Supervisor, path: Path) -> None:
        self.sup = supervisor
        self.path = path
        self.started = time.time()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

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
                    await _send(writer, {"ok": False, "error": "request too long", "code": 2})
                    return
                if not line:
                    return
                try:
                    req = json.loads(line)
                    if not isinstance(req, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    await _send(writer, {"ok": False, "error": f"bad request: {e}", "code": 2})
                    continue
                if req.get("cmd") == "events":
                    await self._stream_events(writer)
                    return
                await _send(writer, await self.dispatch(req))
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def dispatch(self, req: dict[str, Any]) -> dict[str, Any]:
        cmd = req.get("cmd")
        sup = self.sup
        if cmd == "status":
            return {
                "ok": True,
                "manager": self._manager_info(),
                "services": [s.to_dict() for s in sup.snapshot()],
            }
        if cmd in ("start", "stop", "restart"):
            names = req.get("services") or []
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                return {"ok": False, "error": "services must be a list of names", "code": 2}
            unknown = [n for n in names if n not in sup.services]
            if unknown:
                return {
                    "ok": False,
                    "code": 2,
                    "error": str(UnknownService(unknown[0], sup.services)),
                }
            action = {
                "start": sup.start_service,
                "stop": sup.stop_service,
                "restart": sup.restart_service,
            }[cmd]
            await asyncio.gather(*(action(n, "user") for n in names))
            if req.get("wait", True):
                await asyncio.gather(
                    *(sup.wait_settled(n, float(req.get("timeout", 60))) for n in names)
                )
            return {
                "ok": True,
                "services": [s.to_dict() for s in sup.snapshot() if s.name in names],
            }
        if cmd == "down":
            sup.request_shutdown("down")
            code = await sup.wait()
            return {"ok": True, "code": code}
        return {"ok": False, "error": f"unknown command {cmd!r}", "code": 2}

    def _manager_info(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "name": self.sup.config.manager.name,
            "config": str(self.sup.config.path),
            "started": self.started,
            "foreground": self.sup.foreground,
            "shutting_down": self.sup.shutting_down,
        }

    async def _stream_events(self, writer: asyncio.StreamWriter) -> None:
        queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=10_000)

        def on_message(msg: Message) -> None:
            if isinstance(msg, Lifecycle | StateChanged) and not queue.full():
                queue.put_nowait(msg)  # a slow client loses events, never slows the engine

        await _send(writer, {"ok": True, "services": [s.to_dict() for s in self.sup.snapshot()]})
        unsubscribe = self.sup.bus.subscribe(on_message)
        try:
            while True:
                msg = await queue.get()
                if isinstance(msg, Lifecycle):
                    await _send(writer, json.loads(msg.to_json()))
                elif isinstance(msg, StateChanged):
                    await _send(
                        writer,
                        {
                            "ts": msg.ts,
                            "service": msg.service,
                            "event": "state",
                            "old": msg.old,
                            "new": msg.new,
                            "reason": msg.reason,
                        },
                    )
        finally:
            unsubscribe()


async def _send(writer: asyncio.StreamWriter, obj: dict[str, Any]) -> None:
    writer.write(json.dumps(obj).encode() + b"\n")
    await writer.drain()
