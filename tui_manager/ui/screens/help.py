"""`?`: every key binding, generated from the app's BINDINGS (keys are data)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help-close")]

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.bindings_shown = bindings

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="modal-box"):
            yield Static("[b]Keys[/b]  (every action is also in the command palette: ctrl+p)")
            table: DataTable[str] = DataTable(cursor_type="none", id="help-table")
            table.add_columns("key", "action")
            for b in self.bindings_shown:
                if b.description:
                    table.add_row(
                        b.key.replace("question_mark", "?").replace("slash", "/"), b.description
                    )
            yield table
            yield Static("[dim]escape to close[/dim]")
