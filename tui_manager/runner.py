"""Running one `up`: own the state dir, build the engine, install the signal policy, serve the
control socket, run the dev-mode reloader, and hand the engine to a view (headless, dashboard,
web). The views only render; this is the one place that starts and stops things.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable
from typing import Protocol

from . import platform
from .base import early_signals
from .config.config import Config
from .control import memory
from .control.server import ControlServer
from .control.statedir import StateDir
from .core.engine import Engine
from .core.events import ShutdownStarted
from .core.supervisor import Supervisor
from .core.warm.bootstrap import Target
from .core.warm.reaper import OWNED

VIEW_GRACE = 5.0  # seconds a view gets to close once the engine has stopped


class View(Protocol):
    def attach(self, engine: Engine) -> None:
        """Subscribe; called before the engine starts."""
        ...

    async def run(self) -> None:
        """Until the view is done: the engine stopped, or the view itself went away."""
        ...

    def stop(self) -> None:
        """The engine has stopped: close (idempotent)."""
        ...


def install_signal_handlers(engine: Engine) -> Callable[[], None]:
    """SIGINT/SIGTERM/SIGHUP: the orderly stop. A second SIGINT while stopping: kill at once.
    SIGHUP is the terminal going away (a closed window, a dropped ssh session)."""
    loop = asyncio.get_running_loop()

    def on_sigint() -> None:
        if engine.shutting_down:
            engine.force_kill()
        else:
            engine.request_shutdown("SIGINT")

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    loop.add_signal_handler(signal.SIGTERM, engine.request_shutdown, "SIGTERM")
    loop.add_signal_handler(signal.SIGHUP, engine.request_shutdown, "SIGHUP")

    def remove() -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        # The stack has stopped; one more signal while we tidy up must not kill us half-way
        # (a second `down`, a supervisor's SIGTERM): recorded and ignored, as at start-up.
        early_signals.defer()

    return remove


WEB_SERVER = """
import sys
from textual_serve.server import Server
Server(sys.argv[1], host="127.0.0.1", port=int(sys.argv[2]), title="autogpt-dev").serve()
"""


def start_web(config: Config, sup: Supervisor, port: int) -> subprocess.Popen[bytes]:
    """textual-serve on 127.0.0.1: every browser tab runs `autogpt-dev attach` on this stack.
    It carries the run marker, so the watchdog takes it down with the manager."""
    attach = shlex.join([sys.executable, "-m", "tui_manager", "attach", "-c", str(config.path)])
    env = {**os.environ, "AUTOGPT_DEV_MARK": f"{sup.run_id}:web"}
    proc = subprocess.Popen(
        [sys.executable, "-c", WEB_SERVER, attach, str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    OWNED.add(proc.pid)  # waited for by the runner, never by the orphan reaper
    sup.system(f"web dashboard on http://127.0.0.1:{port}")
    return proc


TRIM_EVERY = 60.0  # seconds between giving the heap's free pages back (a week-long run)


async def _trim_every(seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        platform.trim_malloc()


async def run(
    config: Config,
    view: View,
    only: Iterable[str] = (),
    exclude: Iterable[str] = (),
    dev: bool = False,
    targets: dict[str, Target] | None = None,
    web_port: int | None = None,
) -> int:
    """Run the stack until it stops; return `up`'s exit code. Raises AlreadyRunning."""
    state = StateDir(config.state_dir)
    state.acquire()
    memory.start_if_asked()  # AUTOGPT_DEV_TRACEMALLOC: a diagnosis the soak can ask for
    platform.settle_malloc()
    try:
        sup = Supervisor(config, only, exclude, targets=targets)
        sup.dev = dev  # before the first start: known servers' sockets are held from it on
        view.attach(sup)
        remove_handlers = install_signal_handlers(sup)
        hung_up = False

        def on_hangup(msg: object) -> None:
            nonlocal hung_up
            hung_up = hung_up or (isinstance(msg, ShutdownStarted) and msg.reason == "SIGHUP")

        sup.bus.subscribe(on_hangup)
        early = early_signals.pending()
        server = ControlServer(
            sup, state.socket_path(), rings=lambda: [s.log.ring for s in sup.services.values()]
        )
        await server.start()
        reloader = None
        web = None
        trimmer: asyncio.Task[None] | None = None
        try:
            await sup.start()
            if early is not None:  # it arrived while we were starting: stop in order now
                sup.request_shutdown(early.name)
            if dev:
                from .core.reload import Reloader
                from .core.warm.pool import WarmPool

                sup.warm = WarmPool(sup)  # restarts fork from warm templates where they can
                reloader = Reloader(sup)
                await reloader.start()
            if web_port is not None:
                web = start_web(config, sup, web_port)
            trimmer = asyncio.get_running_loop().create_task(_trim_every(TRIM_EVERY))
            view_task = asyncio.get_running_loop().create_task(view.run())
            engine_done = asyncio.get_running_loop().create_task(sup.wait())
            await asyncio.wait({view_task, engine_done}, return_when=asyncio.FIRST_COMPLETED)
            if not sup.finished:  # the view went away first (the terminal closed, a crash)
                sup.request_shutdown("the view exited")
            code = await engine_done
            view.stop()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(view_task, VIEW_GRACE)
            failure = (
                view_task.exception() if view_task.done() and not view_task.cancelled() else None
            )
            if failure is not None and not hung_up:  # (a dead terminal may fail a view's exit)
                raise failure
            return code
        finally:
            if trimmer is not None:
                trimmer.cancel()
            if reloader:
                await reloader.stop()
            await server.close()
            if web is not None:
                web.terminate()
                web.wait(10)
            remove_handlers()
            if not sup.finished:
                sup.force_kill()  # never leave the children behind, whatever went wrong
    finally:
        state.release()
