"""The services table redraws only the rows whose cells changed: what reaches the screen must
still be every row's newest cells (lines not marked dirty come from the widget's line cache)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from tui_manager.core.status import ServiceStatus
from tui_manager.ui.widgets.services_table import ServicesTable

NAMES = [f"svc{i}" for i in range(8)]


class TableApp(App[None]):
    CSS = "ServicesTable { height: 6; }"  # a header and four rows: eight scroll, fg is pinned

    def compose(self) -> ComposeResult:
        yield ServicesTable(NAMES)


def statuses(restarts: dict[str, int]) -> list[ServiceStatus]:
    return [
        ServiceStatus(n, "stopped", restarts=restarts.get(n, 0), foreground=n == NAMES[-1])
        for n in NAMES
    ]


def drawn(table: ServicesTable) -> list[str]:
    """The content lines as the screen gets them (a line not marked dirty: from the cache)."""
    size = table.outer_size
    lines = table.render_lines(Region(0, 0, size.width, size.height))
    return [strip.text for strip in lines[: table.scrollable_content_region.height]]


def restarts_on_screen(table: ServicesTable) -> dict[str, str]:
    """name -> the restarts cell, for the rows on screen."""
    header, *rows = drawn(table)
    at = header.index("restarts")
    return {row.split()[1]: row[at:].split()[0] for row in rows if row.strip()}


async def test_only_changed_rows_are_redrawn_and_each_shows_its_new_cells():
    async with TableApp().run_test(size=(120, 20)) as pilot:
        table = pilot.app.query_one(ServicesTable)
        table.sync(statuses({}), {})
        await pilot.pause()
        before = restarts_on_screen(table)
        assert before == {"svc0": "0", "svc1": "0", "svc2": "0", "svc7": "0"}  # svc7 pinned
        table.sync(statuses({"svc2": 3, "svc7": 9, "svc5": 4}), {})  # svc5 is scrolled away
        await pilot.pause()
        assert restarts_on_screen(table) == {**before, "svc2": "3", "svc7": "9"}
        table.scroll_to(y=3, animate=False)  # now svc3..svc5 scroll into view
        await pilot.pause()
        assert restarts_on_screen(table)["svc5"] == "4"
        table.sync(statuses({"svc2": 3, "svc7": 9, "svc5": 6, "svc4": 1}), {})
        await pilot.pause()
        assert restarts_on_screen(table) == {"svc3": "0", "svc4": "1", "svc5": "6", "svc7": "9"}
