"""`autogpt-dev mcp`: a Model Context Protocol server on stdio for coding agents, built with the
official `mcp` SDK. It drives a running stack through its control socket only (it never starts
a manager of its own), so it can do what the socket allows: same user, mode 0600, and nothing
that runs an arbitrary command. Every action it takes is logged with reason "mcp".
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import Field

from ..control import wire
from ..control.client import NotRunning, Refused, async_request

MAX_BYTES = 200_000  # what one answer may carry of log text, at most
TAIL = 20  # log lines that come with a failure
UNPROBED_GRACE = 1.0  # seconds a service without a ready probe is watched after it started
_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
Since = Annotated[
    float | str | None,
    Field(description='A unix time in seconds, or how long ago: "90s", "5m", "2h".'),
]
Service = Annotated[str, Field(description="A service name, as `status` lists them.")]


class Stack:
    """The running stack a server speaks to, found from the config as the CLI finds it."""

    def __init__(self, state_dir: Path | None, project: str, problem: str | None = None) -> None:
        self.state_dir = state_dir
        self.project = project
        self.problem = problem  # why there is no stack to speak to (no config)

    async def ask(self, req: wire.Request) -> dict[str, Any]:
        if self.state_dir is None:
            raise ToolError(self.problem or "no autogpt-dev config found")
        try:
            return await async_request(self.state_dir, req)
        except NotRunning:
            raise ToolError(
                f"no autogpt-dev stack is running for {self.project}: start one in a terminal "
                "with `autogpt-dev up` (the dashboard) or `autogpt-dev up --headless`, "
                "then call this tool again"
            ) from None
        except Refused as e:
            raise ToolError(str(e)) from None


def since_time(since: float | str | None) -> float | None:
    if since is None or isinstance(since, int | float):
        return None if since is None else float(since)
    m = _AGO.match(since.strip())
    if not m:
        raise ToolError(f'since {since!r}: give a unix time, or how long ago ("90s", "5m")')
    return time.time() - float(m.group(1)) * _UNIT[m.group(2)]


def capped(lines: list[dict[str, Any]], max_bytes: int) -> tuple[list[dict[str, Any]], bool]:
    """The newest lines that fit in max_bytes of text; and whether older ones were left out."""
    out: list[dict[str, Any]] = []
    size = 0
    for line in reversed(lines):
        size += len(line["text"]) + 40
        if size > max_bytes:
            return out[::-1], True
        out.append(line)
    return out[::-1], False


def build(stack: Stack, read_only: bool = False) -> MCPServer:
    server = MCPServer(
        "autogpt-dev",
        instructions=(
            "Drives the autogpt-dev stack of this project: its services' state, logs, crashes "
            "and lifecycle events, and (unless read-only) restarting, starting and stopping "
            "services. After editing code, `restart` the service (or let dev mode do it) and "
            "check `errors` and `logs`."
        ),
    )
    read = ToolAnnotations(read_only_hint=True, open_world_hint=False)
    act = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True)

    @server.tool(annotations=read)
    async def status() -> dict[str, Any]:
        """Every service of the running stack: state (pending, starting, ready, unhealthy,
        stopping, stopped, exited, backoff, failed), pid, uptime in seconds, restarts, exit
        code or signal, the last probe result, and why it is in that state."""
        answer = await stack.ask(wire.Request("status"))
        return {"manager": answer["manager"], "services": answer["services"]}

    @server.tool(annotations=read)
    async def logs(
        service: Annotated[str | None, Field(description="One service; none: all of them.")] = None,
        lines: Annotated[int, Field(description="The newest lines to return (max 5000).")] = 100,
        since: Since = None,
        grep: Annotated[str | None, Field(description="Only lines matching this regex.")] = None,
        max_bytes: Annotated[int, Field(description="A cap on the text returned.")] = 50_000,
    ) -> dict[str, Any]:
        """The newest lines the services wrote (stdout and stderr), oldest first, each with its
        service, time and stream. The manager keeps the last 5000 lines per service; the whole
        history is in `<state_dir>/logs/<service>.log`."""
        if lines < 0 or max_bytes < 0:
            raise ToolError("lines and max_bytes must be 0 or more")
        if grep is not None:
            try:
                re.compile(grep)
            except re.error as e:
                raise ToolError(f"grep {grep!r} is not a valid regular expression: {e}") from None
        req = wire.Request(
            "logs",
            services=(service,) if service else None,
            n=min(lines, wire.MAX_LINES),
            since=since_time(since),
            grep=grep,
        )
        picked, truncated = capped((await stack.ask(req))["lines"], min(max_bytes, MAX_BYTES))
        return {"lines": picked, "truncated": truncated}

    @server.tool(annotations=read)
    async def errors(
        since: Since = None,
        tail: Annotated[int, Field(description="Log lines before each failure.")] = TAIL,
    ) -> dict[str, Any]:
        """Recent crashes and failures, newest last: a service that exited on its own with an
        error or a signal, gave up (failed), or failed its liveness probe (unhealthy); each
        with the reason and the service's last log lines before it happened."""
        if tail < 0:
            raise ToolError("tail must be 0 or more")
        history = await stack.ask(wire.Request("history", since=since_time(since) or 0.0))
        incidents = []
        for ev in history["events"]:
            crash = (
                ev["event"] == "exit"
                and not ev.get("requested")
                and (ev.get("code") not in (0, None) or ev.get("signal") is not None)
            )
            if crash or ev["event"] in ("failed", "unhealthy", "log_error"):
                before = wire.Request("logs", services=(ev["service"],), n=tail, until=ev["ts"])
                lines = (await stack.ask(before))["lines"] if tail else []
                incidents.append({**ev, "last_lines": [x["text"] for x in lines]})
        return {"errors": incidents[-50:]}

    @server.tool(annotations=read)
    async def events(
        since: Since = None,
        limit: Annotated[int, Field(description="The newest events to return.")] = 200,
    ) -> dict[str, Any]:
        """Lifecycle events, oldest first: spawn, ready, unhealthy, exit (code, signal), stop,
        restart, failed (reason), reload (files), watching, log_error, manager_start/stop."""
        if limit < 0:
            raise ToolError("limit must be 0 or more")
        answer = await stack.ask(wire.Request("history", since=since_time(since) or 0.0))
        return {"events": answer["events"][-limit:] if limit else []}

    async def settled(name: str, timeout: float) -> dict[str, Any]:
        answer = await stack.ask(wire.Request("wait", services=(name,), timeout=timeout))
        row = answer["services"][0]
        # "ready" without a probe only means "spawned": watch it a moment, so that a crash at
        # start is reported as the crash it is, not as success.
        until = time.monotonic() + UNPROBED_GRACE
        while row["state"] == "ready" and row["probe"] is None and time.monotonic() < until:
            await asyncio.sleep(0.05)
            rows = (await stack.ask(wire.Request("status")))["services"]
            row = next(r for r in rows if r["name"] == name)
        result: dict[str, Any] = {"service": row}
        if row["state"] not in ("ready", "exited", "stopped"):
            tail_req = wire.Request("logs", services=(name,), n=TAIL)
            result["log_tail"] = [x["text"] for x in (await stack.ask(tail_req))["lines"]]
            if row["state"] != "ready":
                why = row["reason"] or f"still {row['state']} after {timeout:g}s"
                result["failure"] = f"{name} is {row['state']}: {why}"
        return result

    @server.tool(annotations=read)
    async def wait_ready(service: Service, timeout: float = 30) -> dict[str, Any]:
        """Wait until the service is ready (or failed, stopped, exited, or the timeout passed);
        its state, and the reason and log tail when it is not ready."""
        if timeout < 0:
            raise ToolError("timeout must be 0 or more")
        return await settled(service, timeout)

    async def action(cmd: str, name: str, timeout: float) -> dict[str, Any]:
        if timeout < 0:
            raise ToolError("timeout must be 0 or more")
        req = wire.Request(cmd, services=(name,), wait=False, reason="mcp")
        await stack.ask(req)
        return (
            await settled(name, timeout)
            if cmd != "stop"
            else {
                "service": (await stack.ask(wire.Request("wait", services=(name,), timeout=0)))[
                    "services"
                ][0]
            }
        )

    if not read_only:

        @server.tool(annotations=act)
        async def restart(service: Service, timeout: float = 60) -> dict[str, Any]:
            """Restart a service (its whole process tree) and wait until it is ready again:
            the new state and pid, or why it failed with its last log lines. Services that
            depend on it with `restart = true` follow."""
            return await action("restart", service, timeout)

        @server.tool(annotations=act)
        async def start(service: Service, timeout: float = 60) -> dict[str, Any]:
            """Start a stopped or failed service and wait until it is ready (or fails)."""
            return await action("start", service, timeout)

        @server.tool(annotations=act)
        async def stop(service: Service) -> dict[str, Any]:
            """Stop one service (its whole process tree); the services that depend on it keep
            running. Returns its state."""
            return await action("stop", service, 0)

    return server


def stack_for(config: Path | None) -> Stack:
    from ..config.errors import ConfigError
    from ..config.locate import locate

    try:
        where = locate(config)
    except ConfigError as e:
        return Stack(None, str(Path.cwd()), "; ".join(e.problems))
    return Stack(where.state_dir, str(where.path.parent))


def serve(config: Path | None, read_only: bool) -> int:
    build(stack_for(config), read_only).run("stdio")
    return 0
