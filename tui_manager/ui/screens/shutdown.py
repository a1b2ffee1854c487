"""Shown while quitting: what is still stopping, so a slow stop is never a mystery."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ...core.service import ServiceStatus

DONE = {"stopped", "exited", "failed"}


class ShutdownScreen(ModalScreen[None]):
    def compose(self) -> ComposeResult:
        with Vertical(id="shutdown-box", classes="modal-box"):
            yield Static("[b]Stopping the stack[/b] (dependents first)")
            yield Static("", id="shutdown-progress")
            yield Static("[dim]press q again to kill everything now[/dim]")

    def update(self, statuses: list[ServiceStatus]) -> None:
        lines = []
        for s in statuses:
            mark = "[green]✓[/green]" if s.state in DONE else "[yellow]…[/yellow]"
            lines.append(f"{mark} {s.name:<24} {s.state}")
        self.query_one("#shutdown-progress", Static).update("\n".join(lines))
