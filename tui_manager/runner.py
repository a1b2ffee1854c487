"""Running one `up`: own the state dir, serve the control socket, handle signals, run the engine.

Shared by the headless view, the dashboard and the seed's `run_processes`.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TextIO

from .config.load import Config
from .control.server import ControlServer
from .control.statedir import StateDir
from .core.supervisor import Supervisor
from .headless import HeadlessPrinter, JsonPrinter


def install_signal_handlers(sup: Supervisor) -> Callable[[], None]:
    """SIGINT/SIGTERM/SIGHUP: orderly stop. A second SIGINT while stopping: kill at once."""
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        if sup.shutting_down:
            sup.force_kill()
        else:
            sup.request_shutdown("SIGINT")

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    loop.add_signal_handler(signal.SIGTERM, sup.request_shutdown, "SIGTERM")
    loop.add_signal_handler(signal.SIGHUP, sup.request_shutdown, "SIGHUP")

    def remove() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)

    return remove


@asynccontextmanager
async def managed(sup: Supervisor, state: StateDir, dev: bool = False) -> AsyncIterator[None]:
    """Control socket and dev-mode watcher around a running supervisor; state dir already held."""
    server = ControlServer(sup, state.socket_path())
    await server.start()
    reloader = None
    if dev:
        from .core.reload import Reloader

        reloader = Reloader(sup)
        await reloader.start()
    try:
        yield
    finally:
        if reloader:
            await reloader.stop()
        await server.close()


async def run_headless(
    config: Config,
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
    dev: bool = False,
    out: TextIO | None = None,
    targets: dict[str, Callable[[], object]] | None = None,
    json_lines: bool = False,
) -> int:
    import sys

    state = StateDir(config.state_dir)
    state.acquire()
    try:
        sup = Supervisor(config, only, exclude, targets=targets)
        printer = JsonPrinter if json_lines else HeadlessPrinter
        sup.bus.subscribe(printer(sup.order, out or sys.stdout))
        remove_handlers = install_signal_handlers(sup)
        try:
            async with managed(sup, state, dev):
                return await sup.run()
        finally:
            remove_handlers()
    finally:
        state.release()
