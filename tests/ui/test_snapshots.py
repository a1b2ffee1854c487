"""Snapshots of the real dashboard (pytest-textual-snapshot). Only the cells that change from run
to run (pid, uptime, cpu, memory) are masked; the services and their output are real.

Update after an intended UI change: `python -m pytest tests/ui --snapshot-update`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import wait_until
from tests.helpers import state
from tui_manager.config import load
from tui_manager.core.supervisor import Supervisor
from tui_manager.ui.app import Dashboard
from tui_manager.ui.widgets import services_table
from tui_manager.ui.widgets.log_pane import LogPane

GREEN, RESET = "\\u001b[32m", "\\u001b[0m"  # TOML escapes: the child prints real ANSI
MISSING = "DATABASE_URL is not set: copy .env.example to .env, or export it in your shell"
# What `python -c "raise KeyError(...)"` prints on 3.11 and 3.12 (3.13 adds the source line):
# printed, so the snapshot is the same on every Python.
CRASH = json.dumps(
    "Traceback (most recent call last):\n"
    '  File "<string>", line 1, in <module>\n'
    f"KeyError: '{MISSING}'\n"
)  # (a JSON string is a TOML string)
STACK = f"""
[manager]
name = "demo"
[services.database]
command = ["sh", "-c", "echo 'migrations applied'; echo 'listening on :8005'; exec sleep 1000"]
ready = {{ log = "listening" }}
[services.api]
command = ["sh", "-c", "printf 'GET /health 200\\\\nPOST /agents 201 [json]\\\\n'; exec sleep 1000"]
depends_on = ["database"]
[services.mailer]
command = "no-such-mailer"
depends_on = {{ database = "started" }}
[services.exiter]
command = ["sh", "-c", "exit 3"]
restart = "no"
[services.importer]
command = ["sh", "-c", "printf %s \\"$0\\" >&2; exit 1", {CRASH}]
restart = "no"
[services.worker]
command = ["sh", "-c", "echo 'claimed 1'; echo '{GREEN}completed{RESET}'; exec sleep 1000"]
depends_on = ["api"]
"""
VOLATILE = {
    "pid": "1234",
    "uptime": "5s",
    "cpu": "0%",
    "mem": "30.0M",
    "spark": "▁▁▁▁▁",
    "mspark": "▁▁▁▁▁",
}


@pytest.fixture
def stable_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    original = services_table.ServicesTable.cells_for

    def cells_for(self: Any, index: int, st: Any, stats: Any) -> dict[str, Any]:
        cells = original(self, index, st, stats)
        if st.pid is not None:
            cells.update(VOLATILE)
        return cells

    monkeypatch.setattr(services_table.ServicesTable, "cells_for", cells_for)


def dashboard(write_config: Any) -> Dashboard:
    return Dashboard(Supervisor(load(write_config(STACK))))


async def settled(pilot: Any) -> None:
    app: Dashboard = pilot.app
    await app.engine.start()  # type: ignore[attr-defined]  (what the runner does)
    await wait_until(
        lambda: (
            state(app.engine, "worker") == "ready"
            and all(state(app.engine, n) == "failed" for n in ("mailer", "exiter", "importer"))
        ),
        15,
    )
    await wait_until(lambda: len(app.query_one("#fg", LogPane).source) == 2, 5)
    await pilot.pause(0.3)
    app.sync_table()
    app.clear_notifications()  # (the crash toasts have their own test: the table is this one's)
    await pilot.pause()


def shutdown(app: Dashboard) -> None:
    app.engine.force_kill()


@pytest.mark.parametrize(
    "size", [(80, 24), (100, 30), (120, 40), (200, 50)], ids=["80x24", "100x30", "120x40", "200x50"]
)
def test_main_screen(snap_compare: Any, write_config: Any, stable_cells: None, size: Any):
    app = dashboard(write_config)
    try:
        assert snap_compare(app, terminal_size=size, run_before=settled)
    finally:
        shutdown(app)


@pytest.mark.parametrize(
    "keys,name",
    [
        (["question_mark"], "help"),
        (["2", "slash", *"post", "enter"], "search"),
        (["3"], "failed"),
        (["5"], "traceback"),
    ],
)
def test_screens(
    snap_compare: Any, write_config: Any, stable_cells: None, keys: list[str], name: str
):
    app = dashboard(write_config)
    try:
        assert snap_compare(app, terminal_size=(140, 36), run_before=settled, press=keys)
    finally:
        shutdown(app)


def test_dependency_view(snap_compare: Any, write_config: Any, stable_cells: None):
    app = dashboard(write_config)

    async def before(pilot: Any) -> None:
        await settled(pilot)
        order = app.engine.info.order
        for s in app.engine.snapshot():  # a fixed timeline: real shape, fixed numbers
            started = 1000.0 + 0.25 * order.index(s.name) if s.spawns else None
            ready = started + 0.2 if s.ready_at and started else None
            app.rows[s.name] = s._replace(started_at=started, ready_at=ready)
        await pilot.press("d")

    try:
        assert snap_compare(app, terminal_size=(140, 40), run_before=before)
    finally:
        shutdown(app)
