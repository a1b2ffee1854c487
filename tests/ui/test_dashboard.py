"""The dashboard driven by Pilot against real child processes: every key, the palette, quit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.conftest import fx, pid_alive, wait_until
from tests.helpers import dashboard, log_bytes, row, state
from tui_manager.core.logs import LogLine
from tui_manager.ui.app import ALL, Dashboard
from tui_manager.ui.screens.deps import DepsScreen
from tui_manager.ui.screens.help import HelpScreen
from tui_manager.ui.screens.shutdown import ShutdownScreen
from tui_manager.ui.screens.viewer import LogViewer
from tui_manager.ui.widgets.log_pane import MAX_LINES, LogPane
from tui_manager.ui.widgets.services_table import ServicesTable

STACK = f"""
[services.db]
command = {fx("sleeper.py", "db")}
[services.api]
command = {fx("sleeper.py", "api")}
depends_on = ["db"]
[services.chatty]
command = ["sh", "-c", "for i in 1 2 3; do echo \\"hello [b]$i[/b]\\"; done; exec sleep 1000"]
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["api"]
"""


@pytest.fixture
async def app(write_config) -> AsyncIterator[Dashboard]:
    async with dashboard(write_config(STACK)) as (dash, pilot):
        dash.pilot = pilot  # type: ignore[attr-defined]
        await wait_until(lambda: all(s.state == "ready" for s in dash.engine.snapshot()), 15)
        await pilot.pause(0.2)
        yield dash


def pid(app: Dashboard, name: str) -> int | None:
    return row(app.engine, name).pid


async def press(app: Dashboard, *keys: str) -> None:
    await app.pilot.press(*keys)  # type: ignore[attr-defined]
    await app.pilot.pause(0.1)  # type: ignore[attr-defined]


async def test_table_lists_every_service_and_number_keys_select(app: Dashboard):
    table = app.query_one(ServicesTable)
    assert table.names == ["db", "api", "chatty", "fg"]
    await press(app, "3")
    assert app.selected == "chatty"
    log = app.query_one("#log", LogPane)
    assert log.border_title == "chatty log"
    await wait_until(lambda: len(log.source) == 3)
    # Rich markup in child output is shown literally.
    assert "hello [b]1[/b]" in log.visible_text()
    assert "[b]" in "".join(log.rendered())


async def test_r_restarts_s_stops_a_starts_the_selected_service(app: Dashboard):
    await press(app, "2")
    before = pid(app, "api")
    await press(app, "r")
    await wait_until(
        lambda: pid(app, "api") not in (None, before) and state(app.engine, "api") == "ready",
        10,
    )
    await press(app, "s")
    await wait_until(lambda: state(app.engine, "api") == "stopped", 10)
    assert pid(app, "fg") is not None  # dependents keep running
    await press(app, "a")
    await wait_until(lambda: state(app.engine, "api") == "ready", 10)


async def test_R_restarts_all(app: Dashboard):
    before = {n: pid(app, n) for n in app.engine.info.order}
    await press(app, "R")
    await wait_until(
        lambda: (
            all(pid(app, n) not in (None, before[n]) for n in app.engine.info.order)
            and all(s.state == "ready" for s in app.engine.snapshot())
        ),
        15,
    )


async def test_zero_shows_all_services_with_name_prefixes(app: Dashboard):
    await press(app, "0")
    log = app.query_one("#log", LogPane)
    assert app.selected == ALL and log.merged
    text = "".join(row + "\n" for row in log.rendered())
    assert "chatty | hello [b]1[/b]" in text and "system | db started" in text


async def test_search_highlights_and_n_moves(app: Dashboard):
    await press(app, "3", "slash")
    box = app.query_one("#search", Input)
    assert box.has_focus
    await app.pilot.press(*"hello", "enter")  # type: ignore[attr-defined]
    await app.pilot.pause(0.1)  # type: ignore[attr-defined]
    log = app.query_one("#log", LogPane)
    assert log.matches == [0, 1, 2] and log.border_subtitle == "match 3/3"
    await press(app, "n")
    assert log.border_subtitle == "match 1/3"
    await press(app, "N")
    assert log.border_subtitle == "match 3/3"


async def test_follow_pauses_on_scroll_up_and_f_resumes(app: Dashboard):
    await press(app, "3")
    log = app.query_one("#log", LogPane)
    log.append(("chatty", ln) for ln in [*app.engine.history("chatty")] * 40)
    await app.pilot.pause(0.1)  # type: ignore[attr-defined]
    log.focus()
    await press(app, "up")
    assert not log.follow and "paused" in str(log.border_subtitle)
    await press(app, "f")
    assert log.follow and log.border_subtitle == ""


async def test_w_t_toggle_wrap_and_timestamps(app: Dashboard):
    await press(app, "3")
    log = app.query_one("#log", LogPane)
    await press(app, "w")
    assert log.wrap
    await press(app, "t")
    assert log.timestamps
    first = log.rendered()[0]
    assert first[2] == ":" and first[5] == ":"  # HH:MM:SS prefix


async def test_wrap_folds_a_long_line_at_the_pane_width(app: Dashboard):
    await press(app, "3")
    log = app.query_one("#log", LogPane)
    long = "".join(f"{i:04d}" for i in range(100))  # 400 cells, each position readable
    log.append([("chatty", LogLine(0.0, "stdout", long))])
    await press(app, "w")
    width = log.scrollable_content_region.width
    rows = log.rendered()[3:]  # after the three "hello" lines
    assert len(rows) == -(-400 // width) and all(len(r) <= width for r in rows)
    assert "".join(rows) == long
    assert log.virtual_size.height == 3 + len(rows)
    await press(app, "w")
    assert log.rendered()[3] == long and log.virtual_size.height == 4


async def test_a_paused_view_stays_on_its_lines_while_old_ones_are_dropped(app: Dashboard):
    await press(app, "3")
    log = app.query_one("#log", LogPane)
    log.append(("chatty", LogLine(0.0, "stdout", f"old {i}")) for i in range(MAX_LINES))
    await app.pilot.pause(0.05)  # type: ignore[attr-defined]
    log.focus()
    await press(app, "pageup", "pageup")
    assert not log.follow
    top = log.source[log.rows.locate(int(log.scroll_y))[0]]
    log.append(("chatty", LogLine(0.0, "stdout", f"new {i}")) for i in range(500))
    await app.pilot.pause(0.05)  # type: ignore[attr-defined]
    assert len(log.source) == MAX_LINES  # 500 old lines went from the top...
    assert log.source[log.rows.locate(int(log.scroll_y))[0]] == top  # ...the reader's did not


async def test_c_copies_the_visible_log(app: Dashboard):
    await press(app, "3")
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # type: ignore[method-assign]
    await press(app, "c")
    assert copied == ["hello [b]1[/b]\nhello [b]2[/b]\nhello [b]3[/b]"]


async def test_p_opens_the_full_log(app: Dashboard):
    await press(app, "3", "p")  # no terminal to suspend in a test: the built-in viewer
    assert isinstance(app.screen, LogViewer)
    assert app.screen.path == Path(app.engine.log_path("chatty"))
    await press(app, "escape")
    assert not isinstance(app.screen, LogViewer)


async def test_d_dependency_view_and_help(app: Dashboard):
    await press(app, "d")
    assert isinstance(app.screen, DepsScreen)
    root = app.screen.query_one("#deps-tree").root
    waves = {str(w.label): [str(n.label).split()[0] for n in w.children] for w in root.children}
    assert waves == {"wave 1": ["db", "chatty"], "wave 2": ["api"], "wave 3": ["fg"]}
    api = root.children[1].children[0]
    assert [str(edge.label) for edge in api.children] == ["needs db (ready)"]
    await press(app, "escape", "question_mark")
    assert isinstance(app.screen, HelpScreen)
    await press(app, "escape")


async def test_m_maximises_and_plus_minus_resize_the_foreground_pane(app: Dashboard):
    fg = app.query_one("#fg", LogPane)
    await press(app, "m")
    assert fg.has_class("maximised") and not app.query_one("#log").display
    await press(app, "m", "plus")
    assert app.fg_height == 45


async def test_palette_offers_every_action_per_service(app: Dashboard):
    titles = [c.title for c in app.get_system_commands(app.screen)]
    for name in app.engine.info.order:
        for verb in ("Restart", "Stop", "Start"):
            assert f"{verb} {name}" in titles
    before = pid(app, "db")
    await press(app, "ctrl+p")
    await app.pilot.press(*"Restart db")  # type: ignore[attr-defined]
    await app.pilot.pause(0.3)  # type: ignore[attr-defined]
    await press(app, "enter")
    await wait_until(lambda: pid(app, "db") not in (None, before), 10)


async def test_quit_stops_every_child_showing_progress(app: Dashboard):
    pids = [pid(app, n) for n in app.engine.info.order]
    await press(app, "q")
    assert isinstance(app.screen, ShutdownScreen)  # the stop's progress is on screen
    await wait_until(lambda: app.engine.finished, 15)
    assert await app.engine.wait() == 0
    assert not any(p and pid_alive(p) for p in pids)


async def test_a_crash_is_a_toast_and_failed_service_shows_why(write_config):
    path = write_config(f"""
[services.broken]
command = "no-such-command-xyz"
[services.crasher]
command = {fx("crash.py", 3)}
max_restarts = 0
[services.fg]
command = {fx("sleeper.py")}
""")
    toasts: list[str] = []
    async with dashboard(path) as (dash, pilot):
        dash.notify = lambda message, title="", **kw: toasts.append(title)  # type: ignore[method-assign]
        await wait_until(lambda: state(dash.engine, "crasher") == "failed", 10)
        await wait_until(lambda: "broken failed" in toasts and "crashed" in toasts, 5)
        table = dash.query_one(ServicesTable)
        assert str(table.get_cell("broken", "reason")) == "command not found: no-such-command-xyz"
        await pilot.press("q")
        await wait_until(lambda: dash.engine.finished, 15)


async def test_a_flood_stays_bounded_and_keys_respond(write_config):
    path = write_config(f"""
[services.flood]
command = {fx("flood.py", 300000)}
[services.fg]
command = {fx("sleeper.py")}
""")
    async with dashboard(path, size=(120, 30)) as (dash, pilot):
        await wait_until(lambda: state(dash.engine, "flood") == "exited", 30)
        assert log_bytes(dash.engine, "flood").count(b"\n") == 300000
        log = dash.query_one("#log", LogPane)
        await wait_until(lambda: log.visible_text().endswith("line 299999"), 5)
        assert len(log.source) <= MAX_LINES
        await pilot.press("w")
        await pilot.pause(0.05)
        assert log.wrap
        await pilot.press("q")
        await wait_until(lambda: dash.engine.finished, 15)
