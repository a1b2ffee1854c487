"""A read-only full-log viewer: the fallback for `p` when no $PAGER can take the terminal."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import RichLog

TAIL_BYTES = 4_000_000


class LogViewer(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss", "Close", id="viewer-close")]

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        log = RichLog(id="viewer", wrap=False, auto_scroll=True)
        log.border_title = f"{self.path} (read-only, escape to close)"
        yield log

    def on_mount(self) -> None:
        log = self.query_one(RichLog)
        try:
            with self.path.open("rb") as f:
                f.seek(max(0, self.path.stat().st_size - TAIL_BYTES))
                data = f.read().decode("utf-8", "replace")
        except OSError as e:
            data = f"cannot read {self.path}: {e.strerror}"
        log.write(Text.from_ansi(data))
