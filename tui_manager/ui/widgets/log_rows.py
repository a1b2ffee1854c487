"""The bookkeeping behind a virtual log view (pure, no Textual): the lines a pane holds and the
screen rows each one takes, so the widget renders only the rows on screen.

Lines are kept as they arrived (undecoded beyond their text) up to `max_lines`; each has an
absolute number (`first` + index) that stays valid as old lines are dropped, for caches. When
wrapping, a line takes ceil(width / columns) rows (a terminal's character wrap, which is exact and
cheap to count); otherwise one row each.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from rich.cells import cell_len

T = TypeVar("T")

# What Text.from_ansi drops: escape sequences (CSI, OSC, two-byte) and other control characters.
_INVISIBLE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b.|[\x00-\x08\x0b-\x1f\x7f]"
)


def visible_width(text: str) -> int:
    """The cells a line takes once rendered: escapes removed, tabs expanded."""
    return cell_len(_INVISIBLE.sub("", text).expandtabs())


class LogRows(Generic[T]):
    def __init__(self, max_lines: int, width_of: Callable[[T], int]) -> None:
        self.max_lines = max_lines
        self.width_of = width_of  # a line's rendered width in cells
        self.items: list[T] = []
        self.widths: list[int] = []
        self.first = 0  # the absolute number of items[0]
        self.columns = 0  # wrapping at this many columns; 0 = no wrap
        self._starts: list[int] = [0]  # wrapped: the first row of each line, and the total

    # -- content -----------------------------------------------------------------------------
    def extend(self, items: Iterable[T]) -> int:
        """Add lines; return how many rows went from the top to stay within max_lines."""
        new = list(items)[-self.max_lines :]
        widths = [self.width_of(item) for item in new]
        self.items += new
        self.widths += widths
        if self.columns:
            rows = self._starts[-1]
            for w in widths:
                rows += self._height(w)
                self._starts.append(rows)
        if len(self.items) > self.max_lines:
            return self._drop(len(self.items) - self.max_lines)
        return 0

    def clear(self) -> None:
        self.first += len(self.items)
        self.items, self.widths, self._starts = [], [], [0]

    def _drop(self, n: int) -> int:
        rows = self.row_of(n)
        self.first += n
        del self.items[:n]
        del self.widths[:n]
        if self.columns:
            self._starts = [start - rows for start in self._starts[n:]]
        return rows

    # -- rows --------------------------------------------------------------------------------
    def _height(self, width: int) -> int:
        return max(1, -(-width // self.columns))

    def relayout(self, columns: int) -> None:
        """Wrap at `columns` (0: no wrap); rows are recounted from the known widths."""
        self.columns = max(0, columns)
        self._starts = [0]
        if self.columns:
            rows = 0
            for w in self.widths:
                rows += self._height(w)
                self._starts.append(rows)

    @property
    def row_count(self) -> int:
        return self._starts[-1] if self.columns else len(self.items)

    @property
    def max_width(self) -> int:
        return self.columns or max(self.widths, default=0)

    def locate(self, row: int) -> tuple[int, int]:
        """(line index, row within that line) of a screen row; IndexError past the end."""
        if row < 0 or row >= self.row_count:
            raise IndexError(row)
        if not self.columns:
            return row, 0
        index = bisect_right(self._starts, row) - 1
        return index, row - self._starts[index]

    def row_of(self, index: int) -> int:
        """The first screen row of a line."""
        return self._starts[index] if self.columns else index

    def height_of(self, index: int) -> int:
        return self._starts[index + 1] - self._starts[index] if self.columns else 1
