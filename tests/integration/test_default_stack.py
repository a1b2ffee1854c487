"""End to end: the six real services of services/, run by the manager, on free ports."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.settings import SERVICES, isolated_env
from tests.conftest import PY, wait_until
from tests.helpers import row
from tui_manager.config import load
from tui_manager.core.supervisor import Supervisor

REPO = Path(__file__).resolve().parents[2]
AGENT = {
    "name": "shout",
    "nodes": [
        {"id": "hello", "type": "text", "config": {"text": "hello"}},
        {"id": "loud", "type": "uppercase", "inputs": ["hello"]},
        {"id": "fetch", "type": "http_get", "inputs": ["loud"]},
        {"id": "tell", "type": "notify", "inputs": ["loud"], "config": {"message": "said it"}},
    ],
}


@pytest.fixture
def stack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = isolated_env(tmp_path / "state")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'test.db'}"
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
async def stack(stack_env: dict[str, str]) -> AsyncIterator[Supervisor]:
    sup = Supervisor(load(REPO / "autogpt-dev.toml"))
    await sup.start()
    try:
        await wait_until(
            lambda: all(s.state == "ready" for s in sup.snapshot()), 30, "the stack ready"
        )
        yield sup
    finally:
        sup.request_shutdown()
        assert await asyncio.wait_for(sup.wait(), 30) == 0


def url(env: dict[str, str], service: str, path: str) -> str:
    return f"http://127.0.0.1:{env[f'{service.upper()}_PORT']}{path}"


async def run_agent(
    env: dict[str, str], agent: dict[str, Any] = AGENT, during: Any = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Create an agent, execute it, follow it over the websocket until it ends."""
    async with aiohttp.ClientSession() as http:
        async with http.post(url(env, "agent_server", "/agents"), json=agent) as r:
            assert r.status == 201
            agent_id = (await r.json())["id"]
        async with http.post(
            url(env, "agent_server", f"/agents/{agent_id}/execute"), json={"input": ""}
        ) as r:
            execution = await r.json()
        events: list[dict[str, Any]] = []
        async with http.ws_connect(url(env, "websocket_server", "/ws")) as ws:
            await ws.send_json({"subscribe": execution["id"]})
            async with asyncio.timeout(30):
                async for msg in ws:
                    events.append(msg.json())
                    if during and events[-1]["event"] == "node_started":
                        await during()
                        during = None
                    if events[-1]["event"] in ("completed", "failed"):
                        break
        async with http.get(url(env, "agent_server", f"/executions/{execution['id']}")) as r:
            final = await r.json()
        return final, events


async def test_execution_end_to_end_through_every_service(stack: Supervisor, stack_env):
    final, events = await run_agent(stack_env)
    kinds = [e["event"] for e in events]
    assert kinds[0] == "queued" and kinds[-1] == "completed"
    assert kinds.count("node_started") == 4 and kinds.count("node_finished") == 4
    assert final["status"] == "completed"
    assert final["outputs"]["loud"] == "HELLO"
    assert final["outputs"]["fetch"] == '{"echo": "HELLO"}'
    async with aiohttp.ClientSession() as http:
        notes_url = url(
            stack_env, "notification_manager", f"/notifications?execution_id={final['id']}"
        )
        async with http.get(notes_url) as r:
            notes = await r.json()
    assert [n["kind"] for n in notes] == ["node", "completed"]
    # The seed's set_log_level("warning") is config now: no INFO lines from the database manager.
    db_log = [ln.text for ln in stack.history("database_manager", 1000)]
    assert db_log and not any(ln.startswith("INFO") for ln in db_log)


async def test_restarting_the_database_mid_run_loses_nothing(stack: Supervisor, stack_env):
    first, _ = await run_agent(stack_env)
    slow = {
        "name": "slow",
        "nodes": [
            {"id": "a", "type": "text", "config": {"text": "x"}},
            {"id": "b", "type": "wait", "inputs": ["a"], "config": {"seconds": 0.5}},
        ],
    }
    db_pid = row(stack, "database_manager").pid

    async def restart_db() -> None:
        await stack.restart_service("database_manager")

    final, _ = await run_agent(stack_env, slow, during=restart_db)
    assert row(stack, "database_manager").pid != db_pid  # type: ignore[union-attr]
    assert final["status"] == "completed"
    async with (
        aiohttp.ClientSession() as http,
        http.get(url(stack_env, "agent_server", "/executions")) as r,
    ):
        ids = {e["id"]: e["status"] for e in await r.json()}
    assert ids[first["id"]] == "completed"


async def test_scheduler_starts_executions(stack: Supervisor, stack_env):
    async with aiohttp.ClientSession() as http:
        async with http.post(url(stack_env, "agent_server", "/agents"), json=AGENT) as r:
            agent_id = (await r.json())["id"]
        async with http.post(
            url(stack_env, "scheduler", "/schedules"),
            json={"agent_id": agent_id, "every_seconds": 1},
        ) as r:
            assert r.status == 201
        deadline = time.monotonic() + 15
        while True:
            async with http.get(url(stack_env, "agent_server", "/executions")) as r:
                done = [
                    e
                    for e in await r.json()
                    if e["agent_id"] == agent_id and e["status"] == "completed"
                ]
            if done or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
    assert done, "the scheduler never started an execution"


async def test_the_seed_api_runs_the_same_stack(stack_env):
    proc = subprocess.Popen(
        [PY, "-m", "services"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        async def healthy() -> bool:
            try:
                async with aiohttp.ClientSession() as http:
                    for s in SERVICES:
                        async with http.get(url(stack_env, s, "/health")) as r:
                            if r.status != 200:
                                return False
                return True
            except aiohttp.ClientError:
                return False

        deadline = time.monotonic() + 30
        while not await healthy():
            assert time.monotonic() < deadline and proc.poll() is None, "stack never healthy"
            await asyncio.sleep(0.1)
        final, _ = await run_agent(stack_env)
        assert final["status"] == "completed"
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, out
    stops = [
        ln.split("stopping ")[1].split()[0]
        for ln in out.splitlines()
        if "| stopping " in ln and "(shutdown)" in ln
    ]
    assert stops[0] == "execution_manager" or stops[0] == "scheduler"
    assert stops[-1] == "database_manager"


async def test_websocket_server_restarts_promptly_with_a_subscriber_connected(
    stack: Supervisor, stack_env
):
    # Found by the soak: with a browser (or the soak's subscriber) connected, a stop waited for
    # it to hang up until stop_timeout, and SIGKILL ended the server: every reload took 5 s.
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url(stack_env, "websocket_server", "/ws")) as ws:
            await ws.send_json({"subscribe": "nothing-yet"})
            old = row(stack, "websocket_server").pid
            t0 = time.monotonic()
            await stack.restart_service("websocket_server")
            took = time.monotonic() - t0
            msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.GOING_AWAY
    exits = [
        e for e in stack.events_since(0) if e.event == "exit" and e.service == "websocket_server"
    ]
    assert exits[-1].pid == old and exits[-1].extra["code"] == 0  # its own orderly exit
    assert took < 2  # the stop_timeout (5 s) was not what ended it
