"""The services table: one row per service, a fixed header, a row cursor.

Rendered row by row from our own cache: a row is drawn again only when one of its cells (or
whether it holds the cursor) changed. Textual's DataTable re-renders every cell of the table on
any update, which with the stats refreshed every couple of seconds was most of the dashboard's
idle CPU. The columns are laid out for the width the table has (base/columns.py): it never
scrolls sideways. When the rows do not all fit, the foreground service stays pinned on the last
line and the others scroll above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...base.columns import PADDING, Column, layout
from ...base.fmt import exit_cell, templates_summary, uptime
from ...core.stats import CPU_SCALE, ServiceStats, human_bytes, sparkline
from ...core.status import ServiceStatus

# Data-driven cell colours: the one place the table's palette lives.
STATE_STYLE = {
    "pending": "dim",
    "starting": "yellow",
    "ready": "bold green",
    "unhealthy": "bold red",
    "stopping": "yellow",
    "stopped": "dim",
    "exited": "blue",
    "backoff": "magenta",
    "failed": "bold red",
    "crashed": "bold magenta",
}
TROUBLE = ("failed", "crashed", "backoff", "unhealthy")


Cell = str | Text


class ServicesTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"services-table--header", "services-table--cursor"}
    DEFAULT_CSS = """
    ServicesTable {
        background: $surface;
        color: $foreground;
        height: auto;
        max-height: 100%;
        &:focus {
            background-tint: $foreground 5%;
            & > .services-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
            & > .services-table--header {
                background-tint: $foreground 5%;
            }
        }
        & > .services-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .services-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "cursor(-1000000)", "First", show=False),
        Binding("end", "cursor(1000000)", "Last", show=False),
    ]

    class RowHighlighted(Message):
        """The cursor is on another service."""

        def __init__(self, table: ServicesTable, name: str) -> None:
            super().__init__()
            self.table = table
            self.name = name

    def __init__(self, names: list[str], id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: list[str] = []
        self.cursor_row = 0
        self._cells: dict[str, dict[str, Cell]] = {}
        self._rendered: dict[str, tuple[tuple[object, ...], Strip]] = {}  # name -> (key, strip)
        self.longest = max([len(n) for n in names] + [5])
        self.columns: list[tuple[Column, int]] = layout(200, self.longest)
        self.pinned: str | None = None  # the foreground service, pinned when rows scroll

    # -- data --------------------------------------------------------------------------------
    def cells_for(
        self, index: int, st: ServiceStatus, stats: ServiceStats | None
    ) -> dict[str, Any]:
        running = st.pid is not None
        return {
            "n": str(index),
            "name": st.name + (" ★" if st.foreground else ""),
            "state": Text(st.state, style=STATE_STYLE.get(st.state, "")),
            "pid": str(st.pid) if running else "-",
            "uptime": uptime(st.uptime),
            "restarts": str(st.restarts),
            "cpu": f"{stats.cpu:.0f}%" if stats and running else "-",
            "mem": human_bytes(stats.rss) if stats and running else "-",
            "spark": sparkline(list(stats.cpu_history), scale=CPU_SCALE)
            if stats and running
            else "",
            "mspark": sparkline([float(r) for r in stats.rss_history]) if stats and running else "",
            "probe": st.probe or "-",
            "exit": exit_cell(st.exit_code, st.exit_signal),
            "reason": Text(st.reason or "", style="red" if st.state in TROUBLE else "dim"),
        }

    def sync(self, statuses: list[ServiceStatus], stats: dict[str, ServiceStats]) -> None:
        """The rows as the statuses say; only a row whose cells changed is drawn again."""
        names = [st.name for st in statuses]
        templates = templates_summary([st.warm for st in statuses])
        if templates != self.border_subtitle:
            self.border_subtitle = templates
        dirty = []
        for i, st in enumerate(statuses, 1):
            cells = self.cells_for(i, st, stats.get(st.name))
            if self._cells.get(st.name) != cells:
                self._cells[st.name] = cells
                dirty.append(st.name)
        pinned = next((st.name for st in statuses if st.foreground), None)
        if names == self.names and pinned == self.pinned:
            # The same rows: only the lines of those whose cells changed are drawn again, not
            # the whole widget (less to draw by construction; no gain was measurable alone).
            width = max(self.virtual_size.width, self.size.width)
            lines = [y for y in map(self._line_of, dirty) if y is not None]
            if lines:
                self.refresh(*(Region(0, y, width, 1) for y in lines))
            return
        for gone in set(self._cells) - set(names):
            del self._cells[gone]
            self._rendered.pop(gone, None)
        selected = self.selected()
        self.names, self.pinned = names, pinned
        if selected in names and names.index(selected) != self.cursor_row:
            self.cursor_row = names.index(selected)
        self.cursor_row = min(self.cursor_row, max(0, len(names) - 1))
        self._relayout()
        self.refresh()

    # -- layout ------------------------------------------------------------------------------
    def on_resize(self, _: events.Resize) -> None:
        self._relayout()

    def _relayout(self) -> None:
        columns = layout(max(20, self.scrollable_content_region.width), self.longest)
        if columns != self.columns:
            self.columns = columns
            self._rendered.clear()
        rows = self._scrolling()
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows) + 1 + self._pin())
        self.refresh()

    def _visible(self) -> int:
        """Rows on screen below the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _pin(self) -> int:
        """1 when the foreground row is pinned on the last line (the rows do not all fit)."""
        return int(self.pinned is not None and len(self.names) > self._visible())

    def _scrolling(self) -> list[str]:
        """The rows that scroll (all of them, or all but the pinned one)."""
        return [n for n in self.names if not (self._pin() and n == self.pinned)]

    def get_cell(self, name: str, key: str) -> Cell:
        return self._cells[name][key]

    # -- cursor ------------------------------------------------------------------------------
    def selected(self) -> str | None:
        return self.names[self.cursor_row] if 0 <= self.cursor_row < len(self.names) else None

    def select(self, name: str) -> None:
        if name in self.names:
            self._move(self.names.index(name))

    def action_cursor(self, step: int) -> None:
        self._move(max(0, min(len(self.names) - 1, self.cursor_row + step)))

    def _move(self, row: int) -> None:
        if row == self.cursor_row or not self.names:
            return
        self.cursor_row = row
        name = self.names[row]
        scrolling = self._scrolling()
        if name in scrolling:  # (the pinned row is always on screen)
            at, visible = scrolling.index(name), self._visible() - self._pin()
            if at < self.scroll_y:
                self.scroll_to(y=at, animate=False)
            elif at >= self.scroll_y + visible:
                self.scroll_to(y=at - visible + 1, animate=False)
        self.refresh()
        self.post_message(self.RowHighlighted(self, name))

    def on_click(self, event: events.Click) -> None:
        y = event.y - self.gutter.top  # the click's row within the content, the header is 0
        if (name := self._name_at(y)) is not None:
            self._move(self.names.index(name))

    def _line_of(self, name: str) -> int | None:
        """The content line `name` is drawn on (_name_at's inverse); None: scrolled away."""
        if self._pin() and name == self.pinned:
            return self._visible()
        scrolling = self._scrolling()
        y = scrolling.index(name) - int(self.scroll_y) + 1 if name in scrolling else 0
        return y if 1 <= y <= self._visible() - self._pin() else None

    def _name_at(self, y: int) -> str | None:
        """The service on content line `y` (0 is the header)."""
        if y < 1:
            return None
        if self._pin() and y == self._visible():
            return self.pinned
        scrolling = self._scrolling()
        row = int(self.scroll_y) + y - 1
        return scrolling[row] if row < len(scrolling) else None

    def on_focus(self) -> None:
        self._rendered.clear()  # the cursor's colours follow focus
        self.refresh()

    def on_blur(self) -> None:
        self.on_focus()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._rendered.clear()

    # -- rendering ---------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x = self.scroll_offset.x
        width = self.scrollable_content_region.width
        base = self.rich_style
        name = self._name_at(y) if y else None
        if y == 0:
            strip = self._header()
        elif name is not None:
            strip = self._row(self.names.index(name))
        else:
            return Strip.blank(width, base)
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_style(base)

    def _header(self) -> Strip:
        style = self.get_component_rich_style("services-table--header")
        key = ("header", style)
        cached = self._rendered.get("\0header")
        if cached is None or cached[0] != key:
            cells = [Text(col.label) for col, _ in self.columns]
            cached = self._rendered["\0header"] = (key, self._strip(cells, style, over=False))
        return cached[1]

    def _row(self, row: int) -> Strip:
        name = self.names[row]
        cursor = row == self.cursor_row
        cells = self._cells[name]
        key = (tuple(cells.values()), cursor)
        cached = self._rendered.get(name)
        if cached is None or cached[0] != key:
            if cursor:
                style, over = self.get_component_rich_style("services-table--cursor"), True
            else:
                style, over = Style(), False
            strip = self._strip([cells[col.key] for col, _ in self.columns], style, over)
            cached = self._rendered[name] = (key, strip)
        return cached[1]

    def _strip(self, cells: Sequence[Cell], style: Style, over: bool) -> Strip:
        """One line of cells at the column widths; `over`: the row style wins over the cells'
        own colours (the cursor row), else the cells' colours win."""
        pad = " " * PADDING
        segments: list[Segment] = []
        for cell, (col, width) in zip(cells, self.columns, strict=True):
            if isinstance(cell, str):
                segments.append(Segment(pad + set_cell_size(cell, width) + pad, style))
                continue
            text = cell.copy()
            text.truncate(width, overflow="ellipsis" if col.key == "reason" else "crop", pad=True)
            segments.append(Segment(pad, style))
            # Text.render leaves out the text's own base style (its caller applies it).
            own = self.app.console.get_style(text.style) if text.style else Style()
            for seg in text.render(self.app.console):
                seg_style = own + seg.style if seg.style else own
                segments.append(Segment(seg.text, seg_style + style if over else style + seg_style))
            segments.append(Segment(pad, style))
        return Strip(segments)
