"""The control socket's wire format, encode and decode, in one place: newline-delimited JSON.

Requests (one JSON object per line; answers are {"ok": true, ...} or
{"ok": false, "error": "...", "code": N}):
  {"cmd": "status"}                                   -> manager, services
  {"cmd": "start"|"stop"|"restart", "services": [..], "wait": true, "timeout": 60,
   "reason": "user"}                                   -> services (settled, when waiting)
  {"cmd": "wait", "services": [..], "timeout": 60}    -> services, once ready/failed/stopped
  {"cmd": "logs", "services": [..] | null, "n": 100, "since": ts, "until": ts, "grep": "re"}
                                                      -> lines (the newest n that match)
  {"cmd": "history", "since": ts}                     -> events (recent lifecycle events)
  {"cmd": "down"}                                     -> code, once the stack has stopped
  {"cmd": "subscribe", "logs": true, "history": 500}  -> manager, services, logs; then a stream
  {"cmd": "events"}                                   (= subscribe without logs)
  {"cmd": "memory", "n": 15}                          -> rss, gc_objects, tracing, traced,
                                                         growth (memory.py: a diagnosis)
Streamed messages: an events.jsonl row ({"event": "spawn", ...}); {"event": "state", "status":
row, "old": ...}; {"event": "log", "service", "stream", "ts", "data"}; {"event": "shutdown",
"reason"}; {"event": "dropped", "service", "lines"} when a slow client missed output.
Log bytes travel as text decoded with surrogateescape, so they round-trip exactly.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # (imported where used: a CLI command needs only the requests)
    from ..core.engine import EngineInfo
    from ..core.events import Message
    from ..core.logs import LogLine
    from ..core.status import ServiceStatus

ACTIONS = ("start", "stop", "restart")
COMMANDS = (*ACTIONS, "status", "wait", "logs", "history", "down", "subscribe", "events", "memory")
MAX_LINES = 5000  # per service, what a `logs` request can reach (the engine's ring)


class WireError(ValueError):
    """A request the server cannot take: answered with code 2."""


def encode(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise WireError("not an object")
    return obj


def ok(**fields: Any) -> dict[str, Any]:
    return {"ok": True, **fields}


def fail(error: str, code: int = 2) -> dict[str, Any]:
    return {"ok": False, "error": error, "code": code}


# ---- requests ---------------------------------------------------------------------------------
class Request(NamedTuple):
    cmd: str
    services: tuple[str, ...] | None = None
    wait: bool = True
    timeout: float = 60.0
    reason: str = "user"
    n: int = 100
    since: float | None = None
    until: float | None = None
    grep: str | None = None
    logs: bool = False
    history: int = 0

    def to_wire(self) -> dict[str, Any]:
        d = {k: v for k, v in self._asdict().items() if v is not None}
        if self.services is not None:
            d["services"] = list(self.services)
        return d


def parse_request(obj: dict[str, Any]) -> Request:
    cmd = obj.get("cmd")
    if cmd not in COMMANDS:
        raise WireError(f"unknown command {cmd!r} (known: {', '.join(COMMANDS)})")
    services = obj.get("services")
    if services is not None and (
        not isinstance(services, list) or not all(isinstance(s, str) for s in services)
    ):
        raise WireError("services must be a list of names")
    if cmd in (*ACTIONS, "wait") and not services:
        raise WireError(f"{cmd} needs at least one service name")
    n = obj.get("n", 100)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise WireError(f"n must be a whole number >= 0, got {n!r}")
    timeout = obj.get("timeout", 60.0)
    if not isinstance(timeout, int | float) or timeout < 0:
        raise WireError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
    since, until = obj.get("since"), obj.get("until")
    for key, value in (("since", since), ("until", until)):
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise WireError(f"{key} must be a unix time in seconds, got {value!r}")
    grep = obj.get("grep")
    if grep is not None:
        try:
            re.compile(grep)
        except (re.error, TypeError) as e:
            raise WireError(f"grep is not a valid regular expression: {e}") from None
    history = obj.get("history", 0)
    if not isinstance(history, int) or history < 0:
        raise WireError(f"history must be a whole number >= 0, got {history!r}")
    return Request(
        cmd=cmd,
        services=tuple(services) if services is not None else None,
        wait=bool(obj.get("wait", True)),
        timeout=float(timeout),
        reason=str(obj.get("reason", "user"))[:64],
        n=min(n, MAX_LINES),
        since=float(since) if since is not None else None,
        until=float(until) if until is not None else None,
        grep=grep,
        logs=bool(obj.get("logs", False)),
        history=min(history, MAX_LINES),
    )


# ---- rows, info, lines ------------------------------------------------------------------------
def status_from_wire(d: dict[str, Any]) -> ServiceStatus:
    from ..core.status import ServiceStatus

    return ServiceStatus.from_dict(d)


def info_to_wire(info: EngineInfo) -> dict[str, Any]:
    d = info._asdict()
    d["order"] = list(info.order)
    return d


def info_from_wire(d: dict[str, Any]) -> EngineInfo:
    from ..core.engine import EngineInfo

    return EngineInfo(
        name=d["name"],
        config_path=d["config_path"],
        pid=d["pid"],
        foreground=d.get("foreground"),
        order=tuple(d.get("order", ())),
        state_dir=d["state_dir"],
        keys=dict(d.get("keys", {})),
    )


def line_to_wire(service: str, line: LogLine) -> dict[str, Any]:
    return {"service": service, "ts": line.ts, "stream": line.stream, "text": line.text}


def line_from_wire(d: dict[str, Any]) -> tuple[str, LogLine]:
    from ..core.logs import LogLine

    return d["service"], LogLine(float(d["ts"]), d["stream"], d["text"])


# ---- streamed messages ------------------------------------------------------------------------
def message_to_wire(msg: Message) -> dict[str, Any]:
    from ..core.events import Lifecycle, LogLines, StateChanged

    if isinstance(msg, Lifecycle):
        return json.loads(msg.to_json())  # type: ignore[no-any-return]
    if isinstance(msg, StateChanged):
        return {
            "ts": msg.ts,
            "service": msg.service,
            "event": "state",
            "old": msg.old,
            "new": msg.new,
            "reason": msg.reason,
            "status": msg.status.to_dict(),
        }
    if isinstance(msg, LogLines):
        return {
            "event": "log",
            "service": msg.service,
            "stream": msg.stream,
            "ts": msg.ts,
            "data": msg.block.decode("utf-8", "surrogateescape"),
        }
    return {"event": "shutdown", "reason": msg.reason, "ts": msg.ts}


def message_from_wire(d: dict[str, Any]) -> Message | None:
    """None for a message this client does not know (a newer server): skip it."""
    from ..core.events import Lifecycle, LogLines, ShutdownStarted, StateChanged

    event = d.get("event")
    if event == "state":
        return StateChanged(status_from_wire(d["status"]), d.get("old", ""), d["ts"])
    if event == "log":
        return LogLines(
            d["service"], d["stream"], d["data"].encode("utf-8", "surrogateescape"), d["ts"]
        )
    if event == "shutdown":
        return ShutdownStarted(d.get("reason", ""), d.get("ts", 0.0))
    if event == "dropped":
        note = f"… {d.get('lines', 0):,} lines not received (the view was too slow)"
        return LogLines.text(d.get("service", "system"), "system", [note])
    if isinstance(event, str) and "ts" in d:
        extra = {k: v for k, v in d.items() if k not in ("ts", "service", "event", "pid")}
        return Lifecycle(d.get("service"), event, d.get("pid"), extra, d["ts"])
    return None
