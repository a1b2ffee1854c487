"""Shown while the stack stops: what is still stopping, so a slow stop is never a mystery."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import var
from textual.screen import ModalScreen
from textual.widgets import Static

from ...core.status import ServiceStatus

DONE = {"stopped", "exited", "failed"}


class ShutdownScreen(ModalScreen[None]):
    rows: var[list[ServiceStatus]] = var(list, always_update=True)

    def __init__(self) -> None:
        super().__init__()
        self.progress = Static("", id="shutdown-progress")

    def compose(self) -> ComposeResult:
        with Vertical(id="shutdown-box", classes="modal-box"):
            yield Static("[b]Stopping the stack[/b] (dependents first)")
            yield self.progress
            yield Static("[dim]press q again to kill everything now[/dim]")

    def watch_rows(self, rows: list[ServiceStatus]) -> None:
        lines = []
        for s in rows:
            mark = "[green]✓[/green]" if s.state in DONE else "[yellow]…[/yellow]"
            lines.append(f"{mark} {s.name:<24} {s.state}")
        self.progress.update("\n".join(lines))
