"""`E`: the Python errors of every service, grouped (the same rows as `autogpt-dev errors`);
Enter opens the editor at the selected one's line."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


def row_text(r: dict[str, Any]) -> str:
    head = f"{r['type']}: {r['message']}" if r.get("message") else str(r["type"])
    where = f"{r['file']}:{r['line']}" if r.get("file") else "(no project frame)"
    seen = time.strftime("%H:%M:%S", time.localtime(r.get("last_seen") or 0))
    return f"{r['service']}  {head[:70]}  {where}  {r['count']} times, last {seen}"


class ErrorsScreen(ModalScreen[dict[str, Any] | None]):
    """Dismissed with the chosen error row (Enter), or None."""

    BINDINGS = [Binding("escape,E,q", "dismiss(None)", "Close")]

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static("[b]Errors[/b]  (Enter: open in $EDITOR, Esc: close)")
            if self.rows:
                yield OptionList(*(Option(row_text(r), id=str(i)) for i, r in enumerate(self.rows)))
            else:
                yield Static("No Python errors so far.", classes="dim")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.rows[int(event.option.id or 0)])
