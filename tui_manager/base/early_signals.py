"""Termination signals that arrive while `up` is still starting (importing, reading the
config), before the engine's loop has its own handlers: recorded, not fatal, and acted on as
soon as the runner can (an orderly stop, exit 0), instead of killing a half-started manager."""

from __future__ import annotations

import signal

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_pending: list[int] = []


def defer() -> None:
    """From now on, SIGINT/SIGTERM/SIGHUP are recorded until the loop takes them over."""
    for sig in SIGNALS:
        signal.signal(sig, lambda number, frame: _pending.append(number))


def pending() -> signal.Signals | None:
    """The first termination signal that arrived early, if any."""
    return signal.Signals(_pending[0]) if _pending else None
