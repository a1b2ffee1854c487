"""The dashboard acts and shows exactly what happened: keys act on the selection every key
before them made, however fast they come; the palette lists each command once; a log pane
holds each line once, in order, as the log file does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.command import CommandList

from tests.conftest import PY, fx, wait_until
from tests.helpers import Recorder, dashboard, log_bytes, state
from tests.ui.test_in_tmux import STACK  # alpha, beta, gamma and the foreground fg
from tui_manager.base.keys import KEYS
from tui_manager.ui.app import Dashboard
from tui_manager.ui.screens.viewer import LogViewer
from tui_manager.ui.widgets.log_pane import LogPane


async def ready(app: Dashboard) -> None:
    await wait_until(lambda: all(s.state == "ready" for s in app.engine.snapshot()), 15)


@pytest.mark.parametrize("key", ["r", "s", "p", "e"])
async def test_an_action_typed_right_after_a_selection_acts_on_that_selection(write_config, key):
    async with dashboard(write_config(STACK)) as (app, pilot):
        await ready(app)
        seen = Recorder(app.engine)
        toasts: list[str] = []
        app.notify = lambda message, **kw: toasts.append(str(message))  # type: ignore[method-assign]
        await pilot.press("3", key)  # one call: no pause between the two
        if key == "r":
            await wait_until(lambda: seen.lifecycle(event="restart") != [], 10)
            assert [e.service for e in seen.lifecycle(event="restart")] == ["gamma"]
        elif key == "s":
            await wait_until(lambda: state(app.engine, "gamma") == "stopped", 10)
            assert [e.service for e in seen.lifecycle(event="stop")] == ["gamma"]
            await pilot.press("1", "3", "a")
            await wait_until(lambda: state(app.engine, "gamma") == "ready", 10)
            assert state(app.engine, "alpha") == "ready"
        elif key == "p":  # no terminal to hand over in a test: the built-in viewer
            await wait_until(lambda: isinstance(app.screen, LogViewer), 5)
            assert app.screen.path.name == "gamma.log"  # type: ignore[attr-defined]
        else:
            await wait_until(lambda: toasts != [], 5)
            assert toasts == ["gamma: no error to open"]


def palette_hits(app: Dashboard) -> list[str]:
    options = app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_palette_lists_each_command_once(write_config):
    async with dashboard(write_config(STACK)) as (app, pilot):
        await ready(app)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles))
        await pilot.press("ctrl+p")
        names = sorted({k.description for k in KEYS if k.palette} | {"Restart gamma"})
        for name in names:
            for query in {name[:3], name[:8], name}:
                palette = app.screen.query_one("#--input").query_one("Input")
                palette.value = query
                await wait_until(lambda q=query: app.screen.query(CommandList), 5)
                await pilot.pause(0.05)
                hits = palette_hits(app)
                titles = [h.split("\n")[0] for h in hits]
                assert len(titles) == len(set(titles)), (query, hits)
                assert all(len(set(h.split("\n"))) == len(h.split("\n")) for h in hits), hits
        await pilot.press("escape")


PRINTS = "import time\\nfor i in range(400): print(i, flush=True); time.sleep(0.005)"
CHATTY = f'["{PY}", "-u", "-c", "{PRINTS}\\ntime.sleep(300)"]'


def pane_lines(pane: LogPane) -> list[str]:
    return [ln.text for _, ln in pane.source]


async def test_a_log_pane_holds_each_line_once_and_in_order(write_config):
    config = f"[services.chatty]\ncommand = {CHATTY}\n[services.other]\ncommand = {CHATTY}\n"
    config += f"[services.fg]\ncommand = {fx('sleeper.py', 'fg')}\n"
    async with dashboard(write_config(config)) as (app, pilot):  # printing from its first ms
        pane = app.query_one("#log", LogPane)

        def same_as_file(name: str) -> bool:
            """The pane's lines are the file's, once each and in order (it may lag a frame)."""
            shown, written = pane_lines(pane), log_bytes(app.engine, name).decode().splitlines()
            return bool(shown) and shown == written[: len(shown)]

        await wait_until(lambda: len(pane_lines(pane)) >= 50, 10)
        await pilot.pause(0.2)
        assert same_as_file("chatty")
        for _ in range(5):  # back and forth while both print
            await pilot.press("2")
            await pilot.pause(0.15)
            assert same_as_file("other")
            await pilot.press("1")
            await pilot.pause(0.15)
            assert same_as_file("chatty")
        await wait_until(lambda: "399" in pane_lines(pane), 10)
        await pilot.pause(0.2)
        assert same_as_file("chatty") and pane_lines(pane)[:3] == ["0", "1", "2"]


async def test_attached_to_a_stack_already_printing_each_line_is_shown_once(write_config):
    import asyncio

    from tui_manager.config import load
    from tui_manager.control.remote import RemoteEngine
    from tui_manager.runner import run

    path = write_config(f"[services.chatty]\ncommand = {CHATTY}\n")

    class Silent:
        def attach(self, engine: Any) -> None:
            self.engine = engine

        async def run(self) -> None:
            await self.engine.wait()

        def stop(self) -> None:
            pass

    stack = asyncio.create_task(run(load(path), Silent()))  # type: ignore[arg-type]
    try:
        state_dir = Path(path).parent / ".autogpt-dev"
        log = state_dir / "logs" / "chatty.log"
        await wait_until(lambda: log.exists() and log.read_bytes().count(b"\n") > 30, 10)
        engine = RemoteEngine(state_dir)
        await engine.start()
        app = Dashboard(engine, attached=True)
        async with app.run_test(size=(120, 40)) as pilot:
            pane = app.query_one("#log", LogPane)
            await wait_until(lambda: "399" in pane_lines(pane), 15)
            await pilot.pause(0.2)
            assert pane_lines(pane) == log.read_text().splitlines()
            await pilot.press("q")
    finally:
        from tui_manager.control import wire
        from tui_manager.control.client import async_request

        await async_request(state_dir, wire.Request("down"))
        assert await asyncio.wait_for(stack, 20) == 0
