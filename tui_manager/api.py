"""The seed's Python API, fixed: `AppProcess` and `run_processes`, a drop-in for upstream AutoGPT.

    class DatabaseManager(AppProcess):
        @property
        def service_name(self) -> str:
            return "DatabaseManager"

        def run(self) -> None: ...        # the service body, in its own process
        def cleanup(self) -> None: ...    # once, in that process, when it is stopped

    run_processes(DatabaseManager().set_log_level("warning"), Scheduler(), ExecutionManager())

As upstream: a subclass needs no `__init__` call; `start(background=True)` returns the child's
pid and `start()` runs the body here and returns 0; `stop()` terminates and joins, and can be
called twice or before start. On SIGTERM/SIGINT the child runs `cleanup()` once; a second signal
during cleanup is reported, not fatal. Children start by exec, as upstream's `forkserver`
start method does (never by forking a process with threads), so the object must be picklable.
Added: dependency order (`depends_on`, `ready`, ...) and everything the engine guarantees.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from .config.config import Config
from .config.spec import ServiceSpec
from .core.warm.bootstrap import Target, print_user_traceback, refuse_start_while_importing_main

logger = logging.getLogger("tui_manager")

# Config fields an AppProcess subclass may set as class attributes.
_FIELDS = [f for f in ServiceSpec._fields if f not in ("command", "shell", "foreground")]


class AppProcess:
    """Subclass and implement `run()`; optionally `cleanup()`."""

    log_level: str | None = None
    _shutting_down: bool = False
    _autogpt_dev_handle: _Background | None = None

    @property
    def service_name(self) -> str:
        return type(self).__name__

    # -- executed in the service's own process ----------------------------------------------
    def run(self) -> object:
        """The service body; return an int to choose the exit code (None means 0)."""
        raise NotImplementedError(f"{type(self).__name__}.run() is the service body")

    def cleanup(self) -> None:
        """Runs once in the service's process when it stops (close pools, stop children)."""

    def execute_run_command(self, silent: bool = False) -> int:
        """The body, with upstream's signal contract: SIGTERM/SIGINT end run() and call
        cleanup() once. Returns the exit code."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._self_terminate)
            signal.signal(signal.SIGINT, self._self_terminate)
        code = 0
        try:
            if silent:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the process)
            if self.log_level:
                logging.getLogger().setLevel(self.log_level)
            result = self.run()
            code = result if isinstance(result, int) else 0
        except SystemExit as e:  # sys.exit() in run(), or the stop signal (_self_terminate)
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if self._shutting_down:
                logger.info("[%s] termination requested", self.service_name)
        except BaseException as e:
            print_user_traceback(e)
            code = 1
        finally:
            try:
                self.cleanup()
            except BaseException as e:
                print_user_traceback(e)
                code = code or 1
        return code

    def _self_terminate(self, signum: int, frame: FrameType | None) -> None:
        if not self._shutting_down:
            self._shutting_down = True
            sys.exit(0)
        self.llprint(
            f"[{self.service_name}] Received exit signal {signum}, but cleanup is already underway."
        )

    @staticmethod
    def listen_sockets() -> list[socket.socket]:
        """The sockets the manager holds for this service (`listen`): see listen_sockets()."""
        return listen_sockets()

    @staticmethod
    def llprint(message: str) -> None:
        """Print from a signal handler (where print and logging are not safe): one write(2)."""
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):
            fd = 1
        os.write(fd, (message + "\n").encode())

    # -- configuration ------------------------------------------------------------------------
    def set_log_level(self, level: str | int) -> Self:
        self.log_level = logging.getLevelName(level) if isinstance(level, int) else level.upper()
        return self

    def service_config(self, foreground: bool = False) -> dict[str, Any]:
        cfg: dict[str, Any] = {"command": [self.service_name], "foreground": foreground}
        for name in _FIELDS:
            if hasattr(self, name):
                cfg[name] = getattr(self, name)
        if self.log_level:
            cfg["env"] = {**cfg.get("env", {}), "LOG_LEVEL": self.log_level}
        return cfg

    # -- executed in the caller's process ---------------------------------------------------
    def start(self, background: bool = False, silent: bool = False, **proc_args: Any) -> int:
        """background: start the service in its own process and return its pid; otherwise run
        the body here until it ends and return 0 (as upstream)."""
        refuse_start_while_importing_main()
        if not background:
            self.execute_run_command(silent)
            return 0
        self.stop()
        handle = _Background(self, silent)
        self._autogpt_dev_handle = handle
        return handle.start()

    def stop(self) -> None:
        """Terminate the process tree and wait for it. Idempotent, and safe before start()."""
        handle = self._autogpt_dev_handle
        if handle is not None:
            self._autogpt_dev_handle = None
            handle.stop()

    def __enter__(self) -> Self:
        self.start(background=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_autogpt_dev_handle", None)  # the parent's supervisor stays with the parent
        return state


class _Background:
    """One AppProcess supervised on its own, by an engine in a thread of the caller."""

    def __init__(self, process: AppProcess, silent: bool) -> None:
        self.process = process
        self.silent = silent
        self.loop: asyncio.AbstractEventLoop | None = None
        self.sup: Any = None
        self.thread: threading.Thread | None = None

    def start(self, timeout: float = 30) -> int:
        from .core.supervisor import Supervisor
        from .headless import TextFormat

        name = self.process.service_name
        config = build_config([self.process], foreground=False)
        sup = Supervisor(config, targets={name: Target(self.process, self.silent)})
        fmt = TextFormat([name], colour=False)

        def relay(msg: Any) -> None:  # the child's own lines (and why it failed), to our stdout
            if getattr(msg, "service", None) == name or getattr(msg, "event", "") == "failed":
                sys.stdout.write(fmt(msg).decode("utf-8", "replace"))
                sys.stdout.flush()

        sup.bus.subscribe(relay)
        self.sup = sup
        spawned = threading.Event()
        outcome: dict[str, Any] = {}

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            await sup.start()
            deadline = self.loop.time() + timeout
            while True:  # until it exists (as upstream, not until it is ready), or cannot
                row = sup.snapshot()[0]
                if row.pid is not None or row.state in ("failed", "exited", "stopped"):
                    break
                await sup.state_change(max(0.0, deadline - self.loop.time()))
            outcome["row"] = row
            spawned.set()
            await sup.wait()

        self.thread = threading.Thread(target=asyncio.run, args=(main(),), name=f"{name}-engine")
        self.thread.daemon = True
        self.thread.start()
        spawned.wait(timeout)
        row = outcome.get("row")
        if row is None or row.pid is None:
            self.stop()
            why = row.reason if row is not None else f"not started within {timeout:g}s"
            raise RuntimeError(f"[{name}] could not start: {why}")
        return int(row.pid)

    def stop(self) -> None:
        thread, loop, sup = self.thread, self.loop, self.sup
        if thread is None or loop is None or sup is None:
            return
        self.thread = None
        if thread.is_alive():
            loop.call_soon_threadsafe(sup.request_shutdown, "stop()")
            thread.join()


def listen_sockets() -> list[socket.socket]:
    """The listening sockets handed to this process by the manager (a service's `listen`, or a
    known server's port in dev mode), as systemd hands them: fds 3, 4, ... with LISTEN_FDS and
    LISTEN_PID. Serve on them (aiohttp: `web.run_app(app, sock=...)`, uvicorn: `fd=3`) and a
    restart queues requests instead of refusing them. Empty when none were handed over."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    count = int(os.environ.get("LISTEN_FDS", "0") or 0)
    return [socket.socket(fileno=3 + i) for i in range(count)]


def build_config(processes: list[AppProcess], foreground: bool = True) -> Config:
    """An in-memory Config for AppProcess objects; the last one is the foreground."""
    from .config.loader import validate

    services = {}
    for i, p in enumerate(processes):
        services[p.service_name] = p.service_config(foreground and i == len(processes) - 1)
    return validate({"services": services}, Path.cwd() / "app.py")


def run_processes(*processes: AppProcess, **kwargs: Any) -> int:
    """The seed's entry point: the last process runs in the foreground and the stack lives as
    long as it does. Now with dependency order, reverse-order stop and signal handling; each
    child runs cleanup() when stopped. Returns the exit code `up` would have."""
    from . import runner
    from .headless import HeadlessView

    refuse_start_while_importing_main()
    if not processes:
        return 0
    config = build_config(list(processes))
    silent = bool(kwargs.get("silent", False))
    targets = {p.service_name: Target(p, silent) for p in processes}
    code = 1
    try:
        code = asyncio.run(runner.run(config, HeadlessView(), targets=targets))
    finally:
        for p in reversed(processes):
            try:
                p.stop()
            except Exception as e:
                logger.exception(f"[{p.service_name}] unable to stop: {e}")
    return code


__all__ = ["AppProcess", "listen_sockets", "run_processes"]
