"""A live log: follows the tail until the user scrolls up, searches, wraps, shows timestamps.

Child output is never parsed as Rich markup (`Text.from_ansi`: brackets stay literal, ANSI
colours render). A `\\r` progress line shows its latest state. Writes come in batches (one per
UI frame) and a flood is cut to the last `max_lines`: the full history is on disk (`p`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from rich.text import Text
from textual.reactive import var
from textual.widgets import RichLog

from ...core.events import LogLines
from ...core.logs import LogLine

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


class LogPane(RichLog):
    """One service's output, or every service's (merged) with coloured name prefixes.

    `wrap`, `timestamps` and `follow` are reactives: set them and the pane re-renders itself.
    """

    timestamps: var[bool] = var(False)
    follow: var[bool] = var(True)

    def __init__(self, merged: bool = False, id: str | None = None) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=False, auto_scroll=False, id=id)
        self.merged = merged
        self.pattern: re.Pattern[str] | None = None
        self.matches: list[int] = []
        self.match_index = -1
        self.source: list[tuple[str, LogLine]] = []  # what the pane shows, for re-rendering
        self.name_styles: dict[str, str] = {}
        self._rendering = False

    # -- content ----------------------------------------------------------------------------
    def render_line_text(self, service: str, line: LogLine) -> Text:
        text = Text.from_ansi(latest_state(line.text), no_wrap=not self.wrap)
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

    def append(self, items: Iterable[tuple[str, LogLine]]) -> None:
        """Add lines (a frame's batch); keep following the tail unless the user scrolled up."""
        batch = list(items)[-MAX_LINES:]
        if not batch:
            return
        self.source.extend(batch)
        del self.source[:-MAX_LINES]
        at_end = self.follow or self.is_vertical_scroll_end
        self.write(
            Text("\n").join(self.render_line_text(s, ln) for s, ln in batch),
            scroll_end=at_end and self.follow,
        )

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

    def show_lines(self, title: str, merged: bool, items: Iterable[tuple[str, LogLine]]) -> None:
        """Show another source (a service, or all of them merged) from its history."""
        self.border_title = title
        self.merged = merged
        self.replace(items)

    def watch_wrap(self) -> None:
        if self.is_mounted:
            self.rerender()

    def watch_timestamps(self) -> None:
        if self.is_mounted:
            self.rerender()

    def replace(self, items: Iterable[tuple[str, LogLine]]) -> None:
        self._rendering = True
        try:
            self.clear()
            self.source = []
            self.append(items)
            if self.follow:
                self.scroll_end(animate=False, immediate=True)
        finally:
            self._rendering = False

    def rerender(self, keep_position: bool = False) -> None:
        follow = self.follow
        if keep_position:
            self.set_reactive(LogPane.follow, False)  # no jump to the end for this render
        self.replace(list(self.source))
        self.set_reactive(LogPane.follow, follow)

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
        offset = len(self.lines) - len(self.source)  # lines cut by max_lines
        self.scroll_to(y=max(0, self.matches[self.match_index] + offset - 2), animate=False)
        self.border_subtitle = f"match {self.match_index + 1}/{len(self.matches)}"
