"""The services table: one row per service, updated in place (only the cells that changed)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from ...base.fmt import duration, exit_cell
from ...core.stats import ServiceStats, human_bytes, sparkline
from ...core.status import ServiceStatus

COLUMNS = [
    ("#", "n"),
    ("service", "name"),
    ("state", "state"),
    ("pid", "pid"),
    ("uptime", "uptime"),
    ("restarts", "restarts"),
    ("cpu", "cpu"),
    ("mem", "mem"),
    ("cpu 30s", "spark"),
    ("mem 30s", "mspark"),
    ("health", "probe"),
    ("exit", "exit"),
    ("why", "reason"),
]
# Fixed widths: columns never jump as values change (uptime 9s -> 10s). A longer `why` is
# cut here; the toast and `autogpt-dev status` show it whole.
WIDTHS = {
    "n": 1,
    "state": 9,
    "pid": 7,
    "uptime": 6,
    "restarts": 8,
    "cpu": 4,
    "mem": 6,
    "spark": 10,
    "mspark": 10,
    "probe": 14,
    "exit": 6,
    "reason": 40,
}

# Data-driven cell colours: the one place the table's palette lives.
STATE_STYLE = {
    "pending": "dim",
    "starting": "yellow",
    "ready": "bold green",
    "unhealthy": "bold red",
    "stopping": "yellow",
    "stopped": "dim",
    "exited": "blue",
    "backoff": "magenta",
    "failed": "bold red",
}


class ServicesTable(DataTable[Any]):
    def __init__(self, names: list[str], id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, id=id)
        self._cells: dict[tuple[str, str], object] = {}
        self._name_width = max([len(n) + 2 for n in names] + [7])  # room for " ★"

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            width = self._name_width if key == "name" else WIDTHS[key]
            self.add_column(label, key=key, width=width)

    def cells_for(
        self, index: int, st: ServiceStatus, stats: ServiceStats | None
    ) -> dict[str, Any]:
        running = st.pid is not None
        return {
            "n": str(index),
            "name": st.name + (" ★" if st.foreground else ""),
            "state": Text(st.state, style=STATE_STYLE.get(st.state, "")),
            "pid": str(st.pid) if running else "-",
            "uptime": duration(st.uptime),
            "restarts": str(st.restarts),
            "cpu": f"{stats.cpu:.0f}%" if stats and running else "-",
            "mem": human_bytes(stats.rss) if stats and running else "-",
            "spark": sparkline(list(stats.cpu_history)) if stats and running else "",
            "mspark": sparkline([float(r) for r in stats.rss_history]) if stats and running else "",
            "probe": st.probe or "-",
            "exit": exit_cell(st.exit_code, st.exit_signal),
            "reason": Text(st.reason or "", style="red" if st.state == "failed" else "dim"),
        }

    def sync(self, statuses: list[ServiceStatus], stats: dict[str, ServiceStats]) -> None:
        """Add/remove rows as services come and go; update only the cells whose value changed."""
        names = [st.name for st in statuses]
        for row_key in list(self.rows):
            if row_key.value not in names:
                self.remove_row(row_key)
                self._cells = {k: v for k, v in self._cells.items() if k[0] != row_key.value}
        for i, st in enumerate(statuses, 1):
            cells = self.cells_for(i, st, stats.get(st.name))
            if st.name not in {k.value for k in self.rows}:
                self.add_row(*(cells[key] for _, key in COLUMNS), key=st.name)
                self._cells.update({(st.name, k): v for k, v in cells.items()})
                continue
            for key, value in cells.items():
                if self._cells.get((st.name, key)) != value:
                    self._cells[(st.name, key)] = value
                    self.update_cell(st.name, key, value)

    def selected(self) -> str | None:
        if not self.rows or self.cursor_row < 0:
            return None
        return str(self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0)).row_key.value)

    def select(self, name: str) -> None:
        self.move_cursor(row=self.get_row_index(name))
