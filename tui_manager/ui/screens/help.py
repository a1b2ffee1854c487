"""`?`: every key binding, generated from base/keys.py (after the user's keymap)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ...base.keys import display


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help-close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="modal-box"):
            yield Static("[b]Keys[/b]  (every action is also in the command palette: ctrl+p)")
            table: DataTable[str] = DataTable(cursor_type="none", id="help-table")
            table.add_columns("key", "action")
            for keys, description in self.rows:
                table.add_row(display(keys), description)
            yield table
            yield Static("[dim]escape to close[/dim]")
