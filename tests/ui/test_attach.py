"""The dashboard attached to a headless `up` in another process, over the control socket."""

from __future__ import annotations

import json
import signal

from tests.conftest import fx, wait_until
from tests.integration.test_cli import Up, cli
from tui_manager.control.remote import RemoteEngine
from tui_manager.ui.app import Dashboard
from tui_manager.ui.widgets.log_pane import LogPane
from tui_manager.ui.widgets.services_table import ServicesTable

STACK = f"""
[services.db]
command = {fx("ticker.py", 0.1)}
[services.api]
command = {fx("sleeper.py", "api")}
depends_on = ["db"]
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["api"]
"""


def pids(up: Up) -> dict[str, int]:
    return {
        s["name"]: s["pid"]
        for s in json.loads(cli("status", "--json", cwd=up.cwd).stdout)["services"]
    }


async def test_attach_shows_live_state_and_logs_acts_and_detaches(write_config):
    path = write_config(STACK)
    up = Up(path.parent)
    try:
        up.wait_ready("fg")
        engine = RemoteEngine(path.parent / ".autogpt-dev")
        await engine.start()
        app = Dashboard(engine, attached=True)
        async with app.run_test(size=(120, 36)) as pilot:
            table = app.query_one(ServicesTable)
            await wait_until(lambda: table.names == ["db", "api", "fg"], 10)
            log = app.query_one("#log", LogPane)
            await wait_until(lambda: len(log.source) > 3, 10, "db's ticks streaming in")
            assert app.query_one("#fg", LogPane).border_title == "★ fg (foreground)"
            before = pids(up)
            await pilot.press("2", "r")
            await wait_until(lambda: pids(up)["api"] not in (None, before["api"]), 10)
            await wait_until(lambda: str(table.get_cell("api", "restarts")) == "1", 10)
            await pilot.press("q")
            await wait_until(lambda: app.engine.finished, 5)
        assert up.proc.poll() is None  # detaching left the stack running
        assert pids(up)["db"] == before["db"]
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_attach_without_a_running_manager_exits_1(write_config):
    path = write_config(STACK)
    r = cli("attach", cwd=path.parent)
    assert r.returncode == 1 and "no autogpt-dev manager is running" in r.stderr
