"""One behaviour suite for both implementations of the Engine seam: the in-process Supervisor
and the RemoteEngine speaking to it over a real control socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import fx, wait_until
from tests.helpers import Recorder, row
from tui_manager.base import paths
from tui_manager.config import load
from tui_manager.control.remote import RemoteEngine
from tui_manager.control.server import ControlServer
from tui_manager.core.engine import Engine, EngineError, UnknownService
from tui_manager.core.events import LogLines, StateChanged
from tui_manager.core.supervisor import Supervisor

STACK = f"""
[manager]
name = "behaviour"
[services.db]
command = {fx("ticker.py", 0.05)}
[services.api]
command = {fx("sleeper.py", "api")}
depends_on = ["db"]
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["api"]
"""


@dataclass
class Stack:
    engine: Engine
    sup: Supervisor  # the stack itself, to end it from the manager's side


async def start(path: Path, kind: str) -> tuple[Stack, ControlServer | None]:
    sup = Supervisor(load(path))
    server = None
    if kind == "remote":
        server = ControlServer(sup, paths.socket_path(sup.config.state_dir))
        await server.start()
    await sup.start()
    if kind == "local":
        return Stack(sup, sup), None
    remote = RemoteEngine(sup.config.state_dir)
    await remote.start()
    return Stack(remote, sup), server


@pytest.fixture(params=["local", "remote"])
async def stack(request, write_config) -> AsyncIterator[Stack]:
    st, server = await start(write_config(STACK), request.param)
    try:
        await wait_until(lambda: row(st.engine, "fg").state == "ready", 15, "the stack ready")
        yield st
    finally:
        if not st.sup.finished:
            st.sup.request_shutdown("test over")
            await asyncio.wait_for(st.sup.wait(), 20)
        if server:
            await server.close()
        st.engine.request_shutdown("test over")  # a remote one detaches; idempotent


async def test_info_and_snapshot(stack: Stack):
    info = stack.engine.info
    assert info.name == "behaviour" and info.order == ("db", "api", "fg")
    assert info.foreground == "fg"
    rows = stack.engine.snapshot()
    assert [r.name for r in rows] == ["db", "api", "fg"]
    assert all(r.state == "ready" and r.pid for r in rows)
    assert rows[2].foreground and rows[1].depends_on == {"db": "ready"}


async def test_history_has_the_lines_with_their_times(stack: Stack):
    await wait_until(lambda: len(stack.engine.history("db", 5)) == 5, 5, "five ticks")
    lines = stack.engine.history("db", 5)
    assert all(ln.text.startswith("tick ") for ln in lines)
    assert all(ln.ts > 1e9 for ln in lines)  # real timestamps
    assert [ln.ts for ln in lines] == sorted(ln.ts for ln in lines)
    assert stack.engine.log_path("db").read_text().startswith("tick ")


async def test_subscribe_gives_rows_then_every_change(stack: Stack):
    rows, unsubscribe = stack.engine.subscribe(lambda m: None)
    unsubscribe()
    assert [r.name for r in rows] == ["db", "api", "fg"]
    seen = Recorder(stack.engine)
    before = row(stack.engine, "api")
    await stack.engine.restart_service("api")
    settled = await stack.engine.wait_settled("api", 10)
    assert settled.state == "ready" and settled.pid != before.pid
    assert settled.restarts == before.restarts + 1
    await wait_until(lambda: any(m.event == "ready" for m in seen.lifecycle("api")), 5)
    states = [m.new for m in seen.messages if isinstance(m, StateChanged) and m.service == "api"]
    assert states[:2] == ["stopping", "stopped"] and states[-1] == "ready"
    kinds = [m.event for m in seen.lifecycle("api")]
    assert kinds[:4] == ["stop", "exit", "restart", "spawn"]
    assert seen.lifecycle("api", "exit")[0].extra["requested"] is True
    await wait_until(lambda: any(isinstance(m, LogLines) for m in seen.messages), 5)
    seen.stop()


async def test_stop_and_start_one_service(stack: Stack):
    await stack.engine.stop_service("api")
    await wait_until(lambda: row(stack.engine, "api").state == "stopped", 10)
    assert row(stack.engine, "fg").state == "ready"  # dependents keep running
    await stack.engine.start_service("api")
    assert (await stack.engine.wait_settled("api", 10)).state == "ready"


async def test_events_since(stack: Stack):
    spawns = [ev.service for ev in stack.engine.events_since(0) if ev.event == "spawn"]
    assert spawns == ["db", "api", "fg"]
    assert stack.engine.events_since(9e9) == []


async def test_unknown_service_is_refused_naming_the_known(stack: Stack):
    with pytest.raises(UnknownService, match="known: api, db, fg"):
        await stack.engine.restart_service("nope")
    with pytest.raises(UnknownService):
        stack.engine.history("nope")


async def test_wait_returns_the_manager_exit_code(stack: Stack):
    # The foreground ends with 3: the stack stops, and every engine reports 3.
    stack.sup.request_shutdown("test", exit_code=3)
    assert await asyncio.wait_for(stack.engine.wait(), 20) == 3
    assert stack.engine.finished and stack.engine.shutting_down


async def test_remote_shows_the_managers_refusal(write_config):
    st, server = await start(write_config(STACK), "remote")
    try:
        assert isinstance(st.engine, RemoteEngine)
        with pytest.raises(EngineError, match="timeout must be a number of seconds >= 0"):
            await st.engine.wait_settled("api", -1)
    finally:
        st.sup.request_shutdown("test over")
        await asyncio.wait_for(st.sup.wait(), 20)
        assert server is not None
        await server.close()
        st.engine.request_shutdown()
