"""`autogpt-dev mcp` driven by the official SDK's own stdio client, against a real stack: what a
coding agent does after editing code (read logs, restart, look at what crashed)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import PY, free_port, fx, wait_until
from tests.integration.test_cli import Up

WRITE_TOOLS = {"restart", "start", "stop"}
READ_TOOLS = {"status", "logs", "errors", "events", "wait_ready"}


@asynccontextmanager
async def mcp(cwd: Path, *flags: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=PY, args=["-m", "tui_manager", "mcp", *flags], cwd=str(cwd), env=dict(os.environ)
    )
    with open(os.devnull, "w") as quiet:
        async with (
            stdio_client(params, errlog=quiet) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


async def call(session: ClientSession, tool: str, **args: Any) -> tuple[bool, Any]:
    """(is_error, the structured answer or the error text)."""
    result: Any = await session.call_tool(tool, args)
    if result.is_error:
        return True, " ".join(c.text for c in result.content if hasattr(c, "text"))
    return False, result.structured_content


@pytest.fixture
def stack(write_config) -> Iterator[tuple[Up, int]]:
    port = free_port()
    path = write_config(f"""
[services.web]
command = ["{PY}", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
ready = {{ tcp = "127.0.0.1:{port}", interval = 0.05 }}
[services.crasher]
command = ["sh", "-c", "echo 'loading the model'; echo 'crashing with 3' >&2; exit 3"]
restart = "no"
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["web"]
""")
    up = Up(path.parent)
    try:
        up.wait_ready("fg")
        yield up, port
    finally:
        up.proc.terminate()
        assert up.finish(20) == 0


async def test_the_tools_with_their_schemas_and_read_only(stack):
    up, _ = stack
    async with mcp(up.cwd) as session:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        assert set(tools) == READ_TOOLS | WRITE_TOOLS
        for t in tools.values():
            assert t.description and len(t.description) > 40 and t.input_schema["type"] == "object"
        assert tools["logs"].input_schema["properties"]["grep"]
        assert tools["status"].annotations and tools["status"].annotations.read_only_hint
        assert tools["restart"].annotations and not tools["restart"].annotations.read_only_hint
    async with mcp(up.cwd, "--read-only") as session:
        names = {t.name for t in (await session.list_tools()).tools}
        assert names == READ_TOOLS  # nothing that changes anything


async def test_an_agent_reads_logs_restarts_and_finds_the_crash(stack):
    up, port = stack
    async with mcp(up.cwd) as session:
        error, status = await call(session, "status")
        assert not error
        rows = {s["name"]: s for s in status["services"]}
        assert rows["web"]["state"] == "ready" and rows["crasher"]["state"] == "failed"
        # A request to the service, then its log line through `logs`.
        with pytest.raises(urllib.error.HTTPError):  # (http.server: 404, and a log line)
            urllib.request.urlopen(f"http://127.0.0.1:{port}/hello-agent")
        deadline = time.monotonic() + 10
        while True:
            _, answer = await call(session, "logs", service="web", grep="hello-agent", lines=5)
            if answer["lines"] or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert '"GET /hello-agent HTTP/1.1" 404' in answer["lines"][-1]["text"]
        assert answer["lines"][-1]["service"] == "web" and answer["lines"][-1]["ts"] > 1e9
        # Restart: a new pid, ready, logged as the agent's doing.
        error, answer = await call(session, "restart", service="web")
        assert not error and answer["service"]["state"] == "ready"
        assert answer["service"]["pid"] not in (None, rows["web"]["pid"])
        _, events = await call(session, "events", since="5m")
        restarts = [e for e in events["events"] if e["event"] == "restart"]
        assert restarts[-1]["service"] == "web" and restarts[-1]["reason"] == "mcp"
        # What crashed, why, and what it said just before.
        _, found = await call(session, "errors")
        crash = next(e for e in found["errors"] if e["event"] == "exit")
        assert crash["service"] == "crasher" and crash["code"] == 3
        assert "crashing with 3" in crash["last_lines"]
        failed = next(e for e in found["errors"] if e["event"] == "failed")
        assert failed["reason"] == "exit 3"
        # stop, then start again
        error, answer = await call(session, "stop", service="web")
        assert not error and answer["service"]["state"] == "stopped"
        error, answer = await call(session, "start", service="web")
        assert not error and answer["service"]["state"] == "ready"


async def test_a_failing_restart_says_why_with_the_log_tail(stack):
    up, _ = stack
    async with mcp(up.cwd) as session:
        error, answer = await call(session, "restart", service="crasher", timeout=10)
        assert not error  # the tool worked; the service did not
        assert answer["service"]["state"] == "failed"
        assert answer["failure"] == "crasher is failed: exit 3"
        assert "crashing with 3" in answer["log_tail"]


@pytest.mark.parametrize(
    "tool,args,needle",
    [
        ("logs", {"service": "nope"}, "unknown service 'nope' (known: crasher, fg, web)"),
        ("restart", {"service": "nope"}, "unknown service 'nope'"),
        ("logs", {"grep": "(unclosed"}, "not a valid regular expression"),
        ("logs", {"lines": -1}, "must be 0 or more"),
        ("logs", {"since": "yesterday"}, "how long ago"),
        ("wait_ready", {"service": "web", "timeout": -5}, "must be 0 or more"),
        ("events", {"limit": "many"}, "limit"),
    ],
)
async def test_bad_arguments_are_tool_errors_and_the_server_lives_on(stack, tool, args, needle):
    up, _ = stack
    async with mcp(up.cwd) as session:
        error, text = await call(session, tool, **args)
        assert error and needle in text, text
        error, status = await call(session, "status")  # still serving
        assert not error and status["services"]


async def test_no_stack_running_says_how_to_start_one(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('sleeper.py')}\n")
    async with mcp(path.parent) as session:
        for tool, args in (("status", {}), ("logs", {}), ("restart", {"service": "fg"})):
            error, text = await call(session, tool, **args)
            assert error and "no autogpt-dev stack is running" in text and "autogpt-dev up" in text


async def test_a_stack_ending_mid_session_is_answered_too(stack):
    up, _ = stack
    async with mcp(up.cwd) as session:
        assert not (await call(session, "status"))[0]
        up.proc.terminate()
        assert up.finish(20) == 0
        await wait_until(lambda: not (up.cwd / ".autogpt-dev/control.sock").exists(), 5)
        error, text = await call(session, "status")
        assert error and "no autogpt-dev stack is running" in text
    json.dumps(text)  # (plain text, no Python reprs)
