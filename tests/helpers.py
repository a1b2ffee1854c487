"""Helpers shared by the test modules: running an engine, reading it through the public seam
(rows, history, events), and waiting on conditions with deadlines (never sleep-and-hope)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tui_manager.base import paths
from tui_manager.base.tail import rotated
from tui_manager.config import Config, load
from tui_manager.core.engine import Engine
from tui_manager.core.events import Lifecycle, Message
from tui_manager.core.status import ServiceStatus
from tui_manager.core.supervisor import Supervisor


@asynccontextmanager
async def supervised(config: Path | Config, **kw: Any) -> AsyncIterator[Supervisor]:
    """A started Supervisor; stopped (and awaited) on the way out."""
    sup = Supervisor(config if isinstance(config, Config) else load(config), **kw)
    await sup.start()
    try:
        yield sup
    finally:
        sup.request_shutdown("test over")
        await asyncio.wait_for(sup.wait(), 30)


def row(engine: Engine, name: str) -> ServiceStatus:
    return next(r for r in engine.snapshot() if r.name == name)


def state(engine: Engine, name: str) -> str:
    return row(engine, name).state


def events(engine: Engine) -> list[dict[str, Any]]:
    """Every row of events.jsonl, as written."""
    path = paths.events_path(Path(engine.info.state_dir))
    return [json.loads(line) for line in path.read_text().splitlines()]


def log_bytes(engine: Engine, name: str) -> bytes:
    """The whole log history of a service: rotated backups (oldest first), then the current."""
    return b"".join(f.read_bytes() for f in reversed(rotated(engine.log_path(name))))


class Recorder:
    """Every message an engine publishes from now on."""

    def __init__(self, engine: Engine) -> None:
        self.messages: list[Message] = []
        _, self.stop = engine.subscribe(self.messages.append)

    def lifecycle(self, service: str | None = None, event: str | None = None) -> list[Lifecycle]:
        return [
            m
            for m in self.messages
            if isinstance(m, Lifecycle)
            and (service is None or m.service == service)
            and (event is None or m.event == event)
        ]


@asynccontextmanager
async def dashboard(
    config: Path | Config, size: tuple[int, int] = (140, 40), **kw: Any
) -> AsyncIterator[tuple[Any, Any]]:
    """(app, pilot): the dashboard on a started engine, as the runner would give it one."""
    from tui_manager.ui.app import Dashboard

    sup = Supervisor(config if isinstance(config, Config) else load(config))
    app = Dashboard(sup, **kw)
    async with app.run_test(size=size) as pilot:
        await sup.start()
        try:
            yield app, pilot
        finally:
            if not sup.finished:
                sup.request_shutdown("test over")
                await asyncio.wait_for(sup.wait(), 20)
