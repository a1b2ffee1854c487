"""How durations, exit statuses and signals are written: one function each, for every view."""

from __future__ import annotations

import signal
from typing import Any


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def duration(seconds: float | None) -> str:
    """Compact and fixed-width friendly: 9s, 4m05s, 2h07m; '-' for none."""
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def uptime(seconds: float | None) -> str:
    """The dashboard's uptime: seconds only in the first minute (9s, 4m, 2h07m), so an idle
    row stays the same for a minute and is not drawn again every sample."""
    if seconds is not None and 60 <= seconds < 3600:
        return f"{int(seconds) // 60}m"
    return duration(seconds)


def exit_cell(code: int | None, sig: int | None) -> str:
    """The table cell: '0', '3', 'sig 9', or '-' while it has not exited."""
    if sig is not None:
        return f"sig {sig}"
    return "-" if code is None else str(code)


def exit_phrase(code: int | None, sig: int | None) -> str:
    """The words: 'exit 3' or 'killed by SIGKILL'."""
    if sig is not None:
        return f"killed by {signal_name(sig)}"
    return f"exit {code}"


def templates_summary(warm: list[dict[str, Any] | None]) -> str:
    """Dev mode's warm templates in one line ('' when there are none): what they cost."""
    live = [w for w in warm if w and w.get("pid")]
    building = sum(1 for w in live if w.get("state") == "building")
    if not live:
        return ""
    mb = sum(w.get("rss") or 0 for w in live) / 2**20
    extra = f", {building} building" if building else ""
    return f"warm templates: {len(live) - building} ready{extra}, {mb:.0f} MB"
