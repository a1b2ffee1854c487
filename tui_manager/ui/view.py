"""The dashboard as a view of the runner (`up` on a terminal), and `attach` (a dashboard of a
stack running elsewhere, over its control socket)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ..core.engine import Engine
from .app import Dashboard
from .terminal import guarded_terminal


class DashboardView:
    def __init__(self, dev: bool = False) -> None:
        self.dev = dev
        self.app: Dashboard | None = None

    def attach(self, engine: Engine) -> None:
        self.app = Dashboard(engine, dev=self.dev)

    async def run(self) -> None:
        assert self.app is not None
        app = self.app
        # A closed or stalled terminal must never block the loop (terminal.py).
        with guarded_terminal(on_resumed=app.repaint_from_thread):
            await app.run_async()

    def stop(self) -> None:
        if self.app is not None and self.app.is_running:
            self.app.exit()


async def _attached(state_dir: Path) -> int:
    from ..control.remote import RemoteEngine

    engine = RemoteEngine(state_dir)
    await engine.start()
    app = Dashboard(engine, attached=True)
    with guarded_terminal(on_resumed=app.repaint_from_thread):
        ui = asyncio.get_running_loop().create_task(app.run_async())
        gone = asyncio.get_running_loop().create_task(engine.wait())
        await asyncio.wait({ui, gone}, return_when=asyncio.FIRST_COMPLETED)
        if app.is_running:
            app.exit()
        await ui
    engine.request_shutdown("detach")
    return 0


def run_attached(state_dir: Path) -> int:
    """`autogpt-dev attach`: `q` detaches; the stack goes on running."""
    return asyncio.run(_attached(state_dir))
