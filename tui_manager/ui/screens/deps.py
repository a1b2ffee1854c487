"""`d`: the dependency graph (each edge's condition) and the startup timeline."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static, Tree

from ...base import graph
from ...core.status import ServiceStatus

BAR_WIDTH = 30


def timeline(statuses: list[ServiceStatus]) -> Text:
    """One bar per service: when it was spawned (│) and how long it took to be ready (█)."""
    started = [s.started_at for s in statuses if s.started_at]
    out = Text()
    if not started:
        return Text("nothing has started yet", style="dim")
    t0 = min(started)
    end = max([s.ready_at or s.started_at or t0 for s in statuses] + [t0 + 0.001])
    scale = BAR_WIDTH / (end - t0)
    width = max(len(s.name) for s in statuses)
    for s in statuses:
        out.append(s.name.ljust(width) + " ")
        if not s.started_at:
            out.append("not started\n", style="dim")
            continue
        lead = int((s.started_at - t0) * scale)
        ready = s.ready_at or s.started_at
        length = max(1, int((ready - s.started_at) * scale))
        out.append(" " * lead + "│", style="dim")
        out.append("█" * length, style="green" if s.ready_at else "red")
        took = f" {ready - s.started_at:.2f}s" if s.ready_at else f" {s.state}"
        out.append(f"{took} (+{s.started_at - t0:.2f}s)\n")
    return out


class DepsScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,d", "dismiss", "Close", id="deps-close")]

    def __init__(self, statuses: list[ServiceStatus]) -> None:
        super().__init__()
        self.statuses = statuses

    def compose(self) -> ComposeResult:
        edges = {s.name: set(s.depends_on) for s in self.statuses}
        tree: Tree[str] = Tree("start order", id="deps-tree")
        tree.root.expand()
        by_name = {s.name: s for s in self.statuses}
        for i, wave in enumerate(graph.start_waves(edges), 1):
            node = tree.root.add(f"wave {i}", expand=True)
            for name in wave:
                deps = by_name[name].depends_on
                label = Text(name, style="bold")
                label.append(f"  {by_name[name].state}", style="dim")
                leaf = node.add(label, expand=True)
                for dep, cond in deps.items():
                    leaf.add_leaf(Text.assemble(("needs ", "dim"), dep, (f" ({cond})", "cyan")))
        with Vertical(id="deps-box", classes="modal-box"):
            yield tree
            yield Static("[b]startup timeline[/b] (spawn │ → ready █)")
            yield Static(timeline(self.statuses), id="timeline")
            yield Static("[dim]escape to close[/dim]")
