"""The seed's Python API, fixed: `AppProcess` and `run_processes` on top of the same engine.

    class Scheduler(AppProcess):
        depends_on = ["DatabaseManager"]
        def run(self) -> None: ...

    run_processes(DatabaseManager().set_log_level("warning"), Scheduler(), ExecutionManager())

Each `run()` executes in its own forked child process (own session, whole tree killed on stop),
so everything the engine guarantees (dependency order, reverse-order stop, signals, no orphans)
holds for the API too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import fields
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from .config.config import Config
from .config.spec import ServiceSpec

logger = logging.getLogger("tui_manager")

# Config fields an AppProcess subclass may set as class attributes.
_FIELDS = [f.name for f in fields(ServiceSpec) if f.name not in ("command", "shell", "foreground")]


class AppProcess:
    """Subclass and implement `run()`; it is the service body, run in a child process."""

    service_name: str = ""
    log_level: str | None = None

    def __init__(self) -> None:
        if not self.service_name:
            self.service_name = type(self).__name__
        self.start_kwargs: dict[str, Any] = {}
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._supervisor: Any = None

    def run(self) -> object:
        """The service body; return an int to choose the exit code (None means 0)."""
        raise NotImplementedError(f"{type(self).__name__}.run() is the service body")

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

    def _child_main(self) -> object:
        """Runs in the forked child."""
        if self.log_level:
            logging.getLogger().setLevel(self.log_level)
        return self.run()

    # -- standalone use: one process supervised on its own ------------------------------------
    def start(self, background: bool = False, **kwargs: Any) -> int | None:
        """background=True returns at once; False blocks until run() ends and returns its code."""
        from .core.supervisor import Supervisor
        from .headless import TextFormat

        self.start_kwargs = kwargs
        config = build_config([self], foreground=not background)
        sup = Supervisor(config, targets={self.service_name: self._child_main})
        fmt = TextFormat(sup.order, colour=False)
        sup.bus.subscribe(lambda msg: _stdout().write(fmt(msg).decode("utf-8", "replace")))
        self._supervisor = sup
        if not background:
            return asyncio.run(self._run_foreground(sup))
        started = threading.Event()

        def serve() -> None:
            async def main() -> None:
                self._loop = asyncio.get_running_loop()
                await sup.start()
                started.set()
                await sup.wait()

            asyncio.run(main())

        self._thread = threading.Thread(
            target=serve, name=f"{self.service_name}-supervisor", daemon=True
        )
        self._thread.start()
        started.wait(10)
        return None

    async def _run_foreground(self, sup: Any) -> int:
        from .runner import install_signal_handlers

        remove = (
            install_signal_handlers(sup)
            if threading.current_thread() is threading.main_thread()
            else None
        )
        try:
            code: int = await sup.run()
            return code
        finally:
            if remove:
                remove()

    def stop(self) -> None:
        """Stop the process tree. Idempotent, and safe before start()."""
        thread, loop, sup = self._thread, self._loop, self._supervisor
        if thread is None or loop is None or sup is None:
            return
        if thread.is_alive():
            loop.call_soon_threadsafe(sup.request_shutdown, "stop()")
            thread.join()
        self._thread = None

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


def _stdout() -> Any:
    import sys

    return sys.stdout


def build_config(processes: list[AppProcess], foreground: bool = True) -> Config:
    """An in-memory Config for AppProcess objects; the last one is the foreground."""
    from .config.load import validate

    services = {}
    for i, p in enumerate(processes):
        services[p.service_name] = p.service_config(foreground and i == len(processes) - 1)
    return validate({"services": services}, Path.cwd() / "app.py")


def run_processes(*processes: AppProcess, **kwargs: Any) -> int:
    """The seed's entry point: the last process runs in the foreground and the stack lives as
    long as it does. Now with dependency order, reverse-order stop and signal handling.
    Returns the exit code `up` would have."""
    from . import runner
    from .headless import HeadlessView

    if not processes:
        return 0
    for p in processes:
        p.start_kwargs = kwargs
    config = build_config(list(processes))
    targets = {p.service_name: p._child_main for p in processes}
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


__all__ = ["AppProcess", "run_processes"]
