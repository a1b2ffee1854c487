"""A live log: follows the tail until the user scrolls up, searches, wraps, shows timestamps.

Child output is never parsed as Rich markup (`Text.from_ansi`: brackets stay literal, ANSI
colours render). A `\\r` progress line shows its latest state. Writes come in batches (one per
UI frame) and a flood is cut to the last `max_lines`: the full history is on disk (`p`).
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Callable, Iterable

from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import var
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ...core.events import LogLines
from ...core.logs import LogLine
from .log_rows import LogRows, visible_width

MAX_LINES = 5000
_NAME_STYLES = [
    "cyan",
    "yellow",
    "magenta",
    "green",
    "blue",
    "bright_red",
    "bright_cyan",
    "bright_yellow",
    "bright_magenta",
    "bright_green",
]


def latest_state(line: str) -> str:
    """What a terminal shows for a line with carriage returns: the last rewrite."""
    if "\r" not in line:
        return line
    parts = [p for p in line.split("\r") if p]
    return parts[-1] if parts else ""


def newest_lines(msgs: list[LogLines], n: int) -> list[tuple[str, LogLine]]:
    """The last n lines of a run of messages, in order, decoding only those."""
    picked: list[list[tuple[str, LogLine]]] = []
    left = n
    for msg in reversed(msgs):
        if left <= 0:
            break
        lines = msg.tail(left)
        picked.append([(msg.service, LogLine(msg.ts, msg.stream, t)) for t in lines])
        left -= len(lines)
    return [item for chunk in reversed(picked) for item in chunk]


Item = tuple[str, LogLine]  # (service, line)
TIMESTAMP_WIDTH = len("HH:MM:SS ")


class RecentMessages:
    """The newest messages holding at least `lines` lines (the merged view's history).

    Bounded by lines, not messages: under a flood one message is a MiB block."""

    def __init__(self, lines: int) -> None:
        self.limit = lines
        self.items: deque[tuple[LogLines, int]] = deque()
        self.lines = 0

    def extend(self, msgs: Iterable[LogLines]) -> None:
        for msg in msgs:
            n = msg.block.count(b"\n")
            self.items.append((msg, n))
            self.lines += n
        while self.items and self.lines - self.items[0][1] >= self.limit:
            self.lines -= self.items.popleft()[1]

    def newest(self, n: int) -> list[Item]:
        return newest_lines([msg for msg, _ in self.items], n)


class LogPane(ScrollView, can_focus=True):
    """One service's output, or every service's (merged) with coloured name prefixes.

    `wrap`, `timestamps` and `follow` are reactives: set them and the pane re-renders itself.
    """

    DEFAULT_CSS = """
    LogPane {
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        &:focus {
            background-tint: $foreground 5%;
        }
    }
    """

    wrap: var[bool] = var(False)
    timestamps: var[bool] = var(False)
    follow: var[bool] = var(True)

    class OpenFile(Message):
        """A traceback's `File "...", line N` was clicked."""

        def __init__(self, service: str, path: str, line: int) -> None:
            super().__init__()
            self.service, self.path, self.line = service, path, line

    def __init__(self, merged: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.merged = merged
        self.pattern: re.Pattern[str] | None = None
        self.matches: list[int] = []
        self.match_index = -1
        self.rows: LogRows[Item] = LogRows(MAX_LINES, self.width_of)
        self.name_styles: dict[str, str] = {}
        self._rendering = False
        # Absolute line number -> its rendered rows (uncropped): a repaint re-renders nothing.
        self._strips: LRUCache[int, list[Strip]] = LRUCache(1024)

    @property
    def source(self) -> list[Item]:
        """What the pane holds, oldest first."""
        return self.rows.items

    # -- content ----------------------------------------------------------------------------
    def render_line_text(self, service: str, line: LogLine) -> Text:
        text = Text.from_ansi(latest_state(line.text).expandtabs(), no_wrap=True)
        if self.merged:
            style = self.name_styles.setdefault(
                service, _NAME_STYLES[len(self.name_styles) % len(_NAME_STYLES)]
            )
            text = Text.assemble((f"{service} | ", style), text)
        if self.timestamps:
            text = Text.assemble((time.strftime("%H:%M:%S ", time.localtime(line.ts)), "dim"), text)
        if self.pattern is not None:
            text.highlight_regex(self.pattern, "black on yellow")
        return text

    def width_of(self, item: Item) -> int:
        service, line = item
        width = visible_width(latest_state(line.text))
        if self.merged:
            width += len(service) + 3
        return width + (TIMESTAMP_WIDTH if self.timestamps else 0)

    def append(self, items: Iterable[Item]) -> None:
        """Add lines (a frame's batch); keep following the tail unless the user scrolled up."""
        batch = list(items)[-MAX_LINES:]
        if not batch:
            return
        at_end = self.follow or self.is_vertical_scroll_end
        dropped = self.rows.extend(batch)
        self._update_size()
        if at_end and self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        else:
            if dropped:  # old lines went: keep the rows the reader is looking at in place
                self._quietly(
                    lambda: self.scroll_to(
                        y=max(0, self.scroll_y - dropped), animate=False, immediate=True
                    )
                )
            self.refresh()

    def append_newest(self, msgs: list[LogLines], limit: int) -> None:
        """A frame's messages: the newest `limit` lines, and a marker for what was skipped."""
        if not msgs:
            return
        total = sum(m.block.count(b"\n") for m in msgs)
        items = newest_lines(msgs, limit)
        if total > len(items):
            skipped = LogLine(
                msgs[0].ts,
                "system",
                f"\x1b[2m… {total - len(items):,} lines not shown (all on disk: p)\x1b[0m",
            )
            items.insert(0, ("system", skipped))
        self.append(items)

    def show_lines(self, title: str, merged: bool, items: Iterable[Item]) -> None:
        """Show another source (a service, or all of them merged) from its history."""
        self.border_title = title
        self.merged = merged
        self.replace(items)

    def replace(self, items: Iterable[Item]) -> None:
        def refill() -> None:
            self.rows.clear()
            self._strips.clear()
            self.append(items)
            if self.follow:
                self.scroll_end(animate=False, immediate=True, x_axis=False)

        self._quietly(refill)
        self.refresh()

    def rerender(self, keep_position: bool = False) -> None:
        """Render every line anew (wrap, timestamps, a search changed)."""
        self.rows.widths = [self.width_of(item) for item in self.rows.items]
        self.rows.relayout(self._columns() if self.wrap else 0)
        self._strips.clear()
        self._update_size()
        if self.follow and not keep_position:
            self._quietly(lambda: self.scroll_end(animate=False, immediate=True, x_axis=False))
        self.refresh()

    def _quietly(self, move: Callable[[], None]) -> None:
        """Scroll without it counting as the user scrolling up (which pauses following)."""
        self._rendering = True
        try:
            move()
        finally:
            self._rendering = False

    def _columns(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _update_size(self) -> None:
        self.virtual_size = Size(self.rows.max_width, self.rows.row_count)

    def watch_wrap(self) -> None:
        if self.is_mounted:
            self.rerender()

    def watch_timestamps(self) -> None:
        if self.is_mounted:
            self.rerender()

    def on_resize(self, _: events.Resize) -> None:
        if self.wrap and self.rows.columns != self._columns():
            self.rerender()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # -- rendering: only the rows on screen ----------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        style = self.rich_style
        try:
            index, row = self.rows.locate(scroll_y + y)
        except IndexError:
            return Strip.blank(width, style)
        strips = self._line_strips(index)
        strip = strips[row] if row < len(strips) else Strip.blank(0)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_style(style)

    def _line_strips(self, index: int) -> list[Strip]:
        key = self.rows.first + index
        cached = self._strips.get(key)
        if cached is not None:
            return cached
        text = self.render_line_text(*self.rows.items[index])
        strip = Strip(list(text.render(self.app.console)))
        columns = self.rows.columns
        if columns:  # a terminal's wrap: cut every `columns` cells, exactly the rows counted
            strips = [
                strip.crop(i * columns, (i + 1) * columns)
                for i in range(self.rows.height_of(index))
            ]
        else:
            strips = [strip]
        self._strips[key] = strips
        return strips

    def rendered(self) -> list[str]:
        """The text of every row, as the pane would show it (for tests and copies)."""
        return [s.text for i in range(len(self.rows.items)) for s in self._line_strips(i)]

    def visible_text(self) -> str:
        return "\n".join(latest_state(ln.text) for _, ln in self.source)

    # -- follow -----------------------------------------------------------------------------
    def watch_follow(self, on: bool) -> None:
        if on and self.is_mounted:
            self.scroll_end(animate=False)
        self.border_subtitle = "" if on else "paused: f or End to follow"

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Any upward move (wheel, keys, scrollbar) by the user stops following the tail.
        if new_value < old_value and self.follow and not self._rendering:
            self.follow = False

    def action_scroll_end(self) -> None:
        self.follow = True

    def on_click(self, event: events.Click) -> None:
        """A click on a traceback's `File "...", line N` opens the editor there."""
        from ..editing import frame_at

        try:
            index, _ = self.rows.locate(int(self.scroll_y) + event.y - self.gutter.top)
        except IndexError:
            return
        service, line = self.rows.items[index]
        if (where := frame_at(latest_state(line.text))) is not None:
            self.post_message(self.OpenFile(service, *where))

    # -- search -----------------------------------------------------------------------------
    def search(self, query: str) -> int:
        self.pattern = re.compile(re.escape(query), re.IGNORECASE) if query else None
        self.matches = [
            i
            for i, (_, ln) in enumerate(self.source)
            if self.pattern and self.pattern.search(latest_state(ln.text))
        ]
        self.match_index = len(self.matches)
        self.rerender(keep_position=True)
        if self.matches:
            self.next_match(-1)
        return len(self.matches)

    def next_match(self, step: int = 1) -> None:
        if not self.matches:
            return
        self.follow = False
        self.match_index = (self.match_index + step) % len(self.matches)
        row = self.rows.row_of(self.matches[self.match_index])
        self.scroll_to(y=max(0, row - 2), animate=False)
        self.border_subtitle = f"match {self.match_index + 1}/{len(self.matches)}"
