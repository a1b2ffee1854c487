"""Which lifecycle events the dashboard pops up as a notification, and how: a crash, a failure
with the last lines the service printed, a reload, a failing health or log file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.events import Lifecycle, describe

if TYPE_CHECKING:
    from .app import Dashboard


def toast(app: Dashboard, ev: Lifecycle) -> None:
    svc, x = ev.service, ev.extra
    if ev.event == "exit" and svc and not x.get("requested"):
        if x.get("code") not in (0, None) or x.get("signal"):
            app.notify(describe(ev), title="crashed", severity="warning")
    elif ev.event == "failed" and svc:
        tail = "\n".join(ln.text[:120] for ln in app.engine.history(svc, 3))
        app.notify(
            f"{x.get('reason')}\n{tail}".strip(),
            title=f"{svc} failed",
            severity="error",
            timeout=10,
        )
    elif ev.event == "reload":
        app.notify(describe(ev), title="reload", severity="information")
    elif ev.event in ("unhealthy", "log_error"):
        app.notify(describe(ev), title=ev.event.replace("_", " "), severity="warning")
