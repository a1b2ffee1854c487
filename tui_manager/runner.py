"""Running one `up`: own the state dir, serve the control socket, handle signals, run the engine.

Shared by the headless view, the dashboard and the seed's `run_processes`.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TextIO

from .config.load import Config
from .control.server import ControlServer
from .control.statedir import StateDir
from .core.events import LogLines
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


WEB_SERVER = """
import sys
from textual_serve.server import Server
Server(sys.argv[1], host="127.0.0.1", port=int(sys.argv[2]), title="autogpt-dev").serve()
"""


def start_web(config: Config, sup: Supervisor, port: int) -> subprocess.Popen[bytes]:
    """textual-serve on 127.0.0.1: every browser tab runs `autogpt-dev attach` on this stack.
    It carries the run marker, so the watchdog takes it down with the manager."""
    import os
    import shlex
    import sys

    attach = shlex.join([sys.executable, "-m", "tui_manager", "attach", "-c", str(config.path)])
    env = {**os.environ, "AUTOGPT_DEV_MARK": f"{sup.run_id}:web"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WEB_SERVER, attach, str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    line = f"web dashboard on http://127.0.0.1:{port}"
    sup.bus.publish(LogLines.text("system", "system", [line]))
    return proc


async def run_headless(
    config: Config,
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
    dev: bool = False,
    out: TextIO | None = None,
    targets: dict[str, Callable[[], object]] | None = None,
    json_lines: bool = False,
    web_port: int | None = None,
) -> int:
    import sys

    state = StateDir(config.state_dir)
    state.acquire()
    try:
        sup = Supervisor(config, only, exclude, targets=targets)
        printer = JsonPrinter if json_lines else HeadlessPrinter
        sup.bus.subscribe(printer(sup.order, out or sys.stdout))
        remove_handlers = install_signal_handlers(sup)
        web = None
        try:
            async with managed(sup, state, dev):
                await sup.start()
                if web_port is not None:
                    web = start_web(config, sup, web_port)
                return await sup.wait()
        finally:
            if web is not None:
                web.terminate()
                web.wait(10)
            remove_handlers()
    finally:
        state.release()
