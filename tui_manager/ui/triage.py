"""From a crash to the line: `e` opens the selected service's last error in the editor, `E`
lists every service's errors, and a click on a traceback's `File "...", line N` opens that."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.tracebacks import grouped
from .editing import open_in_editor

if TYPE_CHECKING:
    from .app import Dashboard


def project_root(app: Dashboard) -> Path:
    return Path(app.engine.info.config_path).parent  # paths in errors are relative to it


def open_error(app: Dashboard, name: str) -> None:
    row = app.rows.get(name)
    err = row.last_error if row is not None else None
    if not err or not err.get("file"):
        why = "no error" if not err else "no frame in the project's own code"
        app.notify(f"{name}: {why} to open", severity="information")
        return
    open_in_editor(app, project_root(app) / err["file"], int(err["line"]))


def error_rows(app: Dashboard) -> list[dict[str, Any]]:
    events = [{"event": e.event, "service": e.service, "ts": e.ts, **e.extra} for e in
              app.engine.events_since(0)]  # fmt: skip
    return grouped(events)


def show_errors(app: Dashboard) -> None:
    from .screens.errors import ErrorsScreen

    def chosen(row: dict[str, Any] | None) -> None:
        if row is not None and row.get("file"):
            open_in_editor(app, project_root(app) / row["file"], int(row["line"]))

    app.push_screen(ErrorsScreen(error_rows(app)), chosen)


def open_frame(app: Dashboard, path: str, line: int) -> None:
    """A frame's file, as the traceback names it (absolute, or relative to the project)."""
    where = Path(path)
    open_in_editor(app, where if where.is_absolute() else project_root(app) / where, line)
