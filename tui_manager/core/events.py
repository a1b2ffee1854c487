"""Typed messages of the engine, the fan-out bus, and the events.jsonl writer.

Everything runs on the engine's event loop thread, so publishing is a plain synchronous call:
a subscriber snapshotting and subscribing in the same callback can miss nothing in between.
Subscribers must be quick (append to a buffer); a slow one must batch on its own.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..base.fmt import exit_phrase
from .logs import decode_lines, tail_block
from .status import ServiceStatus
from .tracebacks import sentence

log = logging.getLogger(__name__)

LIFECYCLE_EVENTS = frozenset(
    {
        "spawn",
        "ready",
        "unhealthy",
        "exit",
        "stop",
        "restart",
        "failed",
        "reload",
        "watching",
        "log_error",
        "log_resumed",
        "manager_start",
        "manager_stop",
    }
)


class Lifecycle:
    """A row of events.jsonl."""

    __slots__ = ("event", "extra", "pid", "service", "ts")

    def __init__(
        self,
        service: str | None,
        event: str,
        pid: int | None = None,
        extra: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> None:
        self.service = service
        self.event = event
        self.pid = pid
        self.extra: dict[str, Any] = extra if extra is not None else {}
        self.ts: float = time.time() if ts is None else ts

    def __repr__(self) -> str:
        return f"Lifecycle({self.service!r}, {self.event!r}, {self.pid!r}, {self.extra!r})"

    def to_json(self) -> str:
        row = {"ts": self.ts, "service": self.service, "event": self.event, "pid": self.pid}
        row.update(self.extra)
        return json.dumps(row, separators=(", ", ": "))


class StateChanged:
    """A service's row changed (its state, usually): the whole new row, so views never ask."""

    __slots__ = ("old", "status", "ts")

    def __init__(self, status: ServiceStatus, old: str, ts: float | None = None) -> None:
        self.status = status
        self.old = old
        self.ts: float = time.time() if ts is None else ts

    @property
    def service(self) -> str:
        return self.status.name

    @property
    def new(self) -> str:
        return self.status.state

    @property
    def reason(self) -> str | None:
        return self.status.reason


class ShutdownStarted:
    """The orderly stop of the whole stack began (quit, down, a signal, the foreground ended)."""

    __slots__ = ("reason", "ts")

    def __init__(self, reason: str, ts: float | None = None) -> None:
        self.reason = reason
        self.ts: float = time.time() if ts is None else ts


class LogLines:
    """Complete lines a service wrote on one stream: the exact bytes, decoded only on demand.

    A flood arrives as 1 MiB blocks; the headless view prints the bytes as they are and the
    dashboard decodes just the tail it can show, so nobody pays per line for what nobody sees.
    """

    __slots__ = ("_lines", "block", "service", "stream", "ts")

    def __init__(self, service: str, stream: str, block: bytes, ts: float | None = None) -> None:
        self.service = service
        self.stream = stream  # "stdout" | "stderr" | "system"
        self.block = block  # whole lines, each ending in b"\n"
        self.ts = time.time() if ts is None else ts
        self._lines: list[str] | None = None

    @classmethod
    def text(cls, service: str, stream: str, lines: list[str]) -> LogLines:
        return cls(service, stream, "".join(f"{ln}\n" for ln in lines).encode())

    @property
    def decoded(self) -> bool:
        """Whether the whole block has been decoded (views decode only what they show)."""
        return self._lines is not None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = decode_lines(self.block)
        return self._lines

    def tail(self, n: int) -> list[str]:
        """The last n lines, decoding only those."""
        if self._lines is not None:
            return self._lines[-n:]
        return decode_lines(tail_block(self.block, n))


Message = Lifecycle | StateChanged | LogLines | ShutdownStarted
Subscriber = Callable[[Message], None]
Unsubscribe = Callable[[], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Unsubscribe:
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, msg: Message) -> None:
        for cb in list(self._subscribers):
            try:
                cb(msg)
            except Exception:  # a broken view must never take the engine down
                log.exception("event subscriber %r failed; unsubscribing it", cb)
                self._subscribers.remove(cb)


KEEP_EVENTS = 2_000  # in memory, about 1 MB; events.jsonl has every one


class EventLog:
    """Appends every Lifecycle message to events.jsonl, one flushed line each, and keeps the
    recent ones in memory for `events` requests. A failed write (a full disk) is reported once
    to `on_error` and retried with the next event: the engine never stops over its own log."""

    def __init__(
        self,
        path: Path,
        keep: int = KEEP_EVENTS,
        on_error: Callable[[str | None], None] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.recent: deque[Lifecycle] = deque(maxlen=keep)
        self._on_error = on_error
        self.error: str | None = None

    def __call__(self, msg: Message) -> None:
        if not isinstance(msg, Lifecycle):
            return
        self.recent.append(msg)
        if self._fd < 0:
            return
        try:
            os.write(self._fd, (msg.to_json() + "\n").encode())
        except OSError as e:
            if self.error is None:
                self.error = e.strerror or str(e)
                if self._on_error:
                    self._on_error(self.error)
            return
        if self.error is not None:
            self.error = None
            if self._on_error:
                self._on_error(None)

    def since(self, ts: float) -> list[Lifecycle]:
        return [ev for ev in self.recent if ev.ts >= ts]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def describe(ev: Lifecycle) -> str:
    """One human line for a lifecycle event (headless `system` lines, toasts)."""
    x, s = ev.extra, ev.service
    match ev.event:
        case "spawn":
            return f"{s} started (pid {ev.pid})"
        case "ready":
            return f"{s} ready after {x.get('after', 0):.2f}s"
        case "exit":
            if x.get("error"):
                return sentence(str(s), x["error"])
            if x.get("signal") is not None:
                return f"{s} (pid {ev.pid}) {exit_phrase(None, x['signal'])}"
            return f"{s} (pid {ev.pid}) exited with code {x.get('code')}"
        case "stop":
            return f"stopping {s} ({x.get('reason')})"
        case "restart":
            return f"restarting {s} ({x.get('reason')})"
        case "failed":
            return f"{s} failed: {x.get('reason')}"
        case "unhealthy":
            return f"{s} unhealthy: {x.get('reason')}"
        case "reload":
            files = ", ".join(x.get("files", [])[:5])
            took = f" in {x['seconds']:.2f}s" if x.get("seconds") is not None else ""
            done = f"reloaded {x.get('kind', 'cold')}{took}" if took else "reload ended"
            if x.get("outcome"):
                done += f" {x['outcome']}"
            why = f" ({x['why']})" if x.get("why") else ""
            return f"{s} {done}{why}: changed {files}"
        case "log_error":
            return f"{s}: cannot write its log file ({x.get('reason')}); the views still get it"
        case "log_resumed":
            return f"{s}: writing its log file again ({x.get('lost_bytes', 0):,} bytes lost)"
        case "watching":
            return f"watching {x.get('files', '?')} files for changes"
        case "manager_start":
            return f"manager started (pid {ev.pid}, config {x.get('config')})"
        case "manager_stop":
            return f"manager stopped (exit code {x.get('code')})"
    return f"{s} {ev.event}"
