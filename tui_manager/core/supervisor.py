"""The engine: every service's lifecycle (lifecycle.py), the dependency order, user commands,
the orderly reverse-order shutdown, and the Engine seam every view uses (engine.py).

Everything runs on one asyncio loop; the bus delivers messages synchronously on it, so a view
that subscribes gets a snapshot and then every change, with nothing slipping in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..base import graph, paths
from ..config.config import Config
from . import lifecycle, probes
from .engine import EngineInfo, UnknownService
from .environment import child_env
from .events import (
    EventBus,
    EventLog,
    Lifecycle,
    LogLines,
    ShutdownStarted,
    StateChanged,
    Subscriber,
    Unsubscribe,
)
from .logs import LogLine, ServiceLog
from .orphan import Watchdog
from .policy import foreground_exit_code
from .process import ChildProcess, SpawnSpec, spawn
from .service import Service
from .sockets import Held, HeldSockets, server_line
from .states import DONE_STATES, RUNNING_STATES, ExitStatus, State, check_transition
from .status import ServiceStatus
from .tracebacks import TracebackReader
from .warm.bootstrap import Target

if TYPE_CHECKING:
    from .warm.pool import WarmPool

__all__ = ["Supervisor", "UnknownService"]


class Supervisor:
    def __init__(
        self,
        config: Config,
        only: Iterable[str] = (),
        exclude: Iterable[str] = (),
        targets: dict[str, Target] | None = None,
        ring_lines: int = 5000,
    ) -> None:
        self.config = config
        self.bus = EventBus()
        self.run_id = f"{os.getpid()}-{os.urandom(4).hex()}"
        enabled = config.enabled()
        for n in [*only, *exclude]:
            if n not in config.services:
                raise UnknownService(n, config.services)
        names = graph.closure(config.edges(), only) if only else set(enabled)
        names -= set(exclude)
        # Keep the config's order: it is the order of the table in every view.
        self.order = [n for n in config.services if n in names and n in enabled]
        self.foreground = config.foreground if config.foreground in self.order else None
        self.ring_lines = ring_lines
        self.targets = targets or {}
        self.services: dict[str, Service] = {n: self.make_service(n) for n in self.order}
        self.set_graph()
        self.exit_code: int | None = None
        self.shutting_down = False
        self._changed = asyncio.Event()
        self._done = asyncio.Event()
        self._shutdown_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._event_log = EventLog(paths.events_path(config.state_dir), on_error=self._events_error)
        self.bus.subscribe(self._event_log)
        self._watchdog: Watchdog | None = None
        self.warm: WarmPool | None = None  # dev mode: warm templates (set by the runner)
        self.dev = False  # dev mode (set by the runner): known servers get held sockets too
        self.sockets = HeldSockets()

    def _events_error(self, why: str | None) -> None:
        ok = "events.jsonl is written again"
        self.system(ok if why is None else f"events.jsonl cannot be written ({why}); going on")

    def set_graph(self) -> None:
        self.edges = self.config.edges(set(self.order))
        self.dependents = graph.dependents(self.edges)

    def make_service(self, name: str) -> Service:
        m = self.config.manager

        def on_log_error(why: str | None, lost: int) -> None:
            if why is not None:
                self.emit(name, "log_error", None, reason=why)
            else:
                self.emit(name, "log_resumed", None, lost_bytes=lost)
            self._publish_row(self.services[name], str(self.services[name].state))

        log = ServiceLog(
            paths.log_path(self.config.state_dir, name),
            m.log_max_bytes,
            m.log_backups,
            self.ring_lines,
            on_log_error,
        )
        svc = Service(name, self.config.services[name], log, name == self.foreground)
        svc.target = self.targets.get(name)
        self.configure(svc)
        return svc

    def configure(self, svc: Service) -> None:
        cwd = str(self.config.resolve(svc.spec.cwd))
        env = lambda: child_env(self.config, svc.name)  # noqa: E731 (read at each check)
        svc.ready_probe = probes.make(svc.spec.ready, cwd, env)
        svc.health_probe = probes.make(svc.spec.health, cwd, env)

    # ---- the Engine seam ---------------------------------------------------------------------
    @property
    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.config.manager.name,
            config_path=str(self.config.path),
            pid=os.getpid(),
            foreground=self.foreground,
            order=tuple(self.order),
            state_dir=str(self.config.state_dir),
            keys=dict(self.config.keys),
        )

    def snapshot(self) -> list[ServiceStatus]:
        return [self._row(self.services[n]) for n in self.order]

    def _row(self, svc: Service) -> ServiceStatus:
        deps = svc.spec.dependencies()
        row = svc.status({d: s.condition for d, s in deps.items() if d in self.services})
        warm = self.warm.status(svc.name) if self.warm is not None else None
        if warm is not None:
            row = row._replace(warm=warm)
        listen = self.sockets.addresses(svc.name)
        return row._replace(listen=tuple(listen)) if listen else row

    def subscribe(self, callback: Subscriber) -> tuple[list[ServiceStatus], Unsubscribe]:
        """The current rows, then every message: both on this loop, nothing in between."""
        return self.snapshot(), self.bus.subscribe(callback)

    def history(self, name: str, n: int = 100) -> list[LogLine]:
        return self.get(name).log.tail(n)

    def log_path(self, name: str) -> Path:
        self.get(name)
        return paths.log_path(self.config.state_dir, name)

    def events_since(self, ts: float) -> list[Lifecycle]:
        return self._event_log.since(ts)

    def get(self, name: str) -> Service:
        if name not in self.services:
            raise UnknownService(name, self.services)
        return self.services[name]

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    async def wait(self) -> int:
        await self._done.wait()
        return self.exit_code if self.exit_code is not None else 0

    # ---- running the stack -------------------------------------------------------------------
    async def run(self) -> int:
        await self.start()
        return await self.wait()

    async def start(self) -> None:
        self._watchdog = Watchdog(self.run_id)
        self.emit(
            None, "manager_start", os.getpid(), run_id=self.run_id, config=str(self.config.path)
        )
        for svc in self.services.values():
            self.launch(svc)
        if not self.services:
            self.request_shutdown("nothing to run")

    def request_shutdown(self, reason: str = "user", exit_code: int | None = None) -> None:
        """The orderly stop; idempotent. The first exit code set wins."""
        if self.exit_code is None:
            self.exit_code = exit_code if exit_code is not None else 0
        if self._shutdown_task is None:
            self.shutting_down = True
            self.system(f"stopping ({reason})")
            self.bus.publish(ShutdownStarted(reason))
            self._shutdown_task = asyncio.get_running_loop().create_task(self._shutdown())

    def force_kill(self) -> None:
        """Second Ctrl+C: SIGKILL every tree now, exit 130."""
        self.exit_code = 130
        self.shutting_down = True
        self.system("killing every process now")
        for svc in self.services.values():
            if svc.task:
                with contextlib.suppress(RuntimeError):  # also safe once the loop is closed
                    svc.task.cancel()
            for child in [svc.child, *svc.draining]:
                if child is not None:
                    child.kill_now()
        self._finish()

    async def _shutdown(self) -> None:
        for svc in self.services.values():
            svc.stop_requested = True
        if self.warm is not None:
            await self.warm.close()  # no fork from here on
        stopped = {n: asyncio.Event() for n in self.services}

        async def stop_after_dependents(name: str) -> None:
            # Reverse dependency order: nobody goes before everything that needs it is gone.
            for dep in self.dependents[name]:
                await stopped[dep].wait()
            try:
                await lifecycle.stop(self, self.services[name], "shutdown")
            except Exception as e:  # one broken stop must not keep the rest (or the exit) waiting
                self.system(f"{name}: the stop failed: {type(e).__name__}: {e}; killing it")
                child = self.services[name].child
                if child is not None:
                    child.kill_now()
            finally:
                stopped[name].set()

        try:
            await asyncio.gather(*(stop_after_dependents(n) for n in self.services))
        finally:
            self._finish()

    def _finish(self) -> None:
        if self._done.is_set():
            return
        self.sockets.close()
        for svc in self.services.values():
            svc.log.close()
        self.emit(None, "manager_stop", os.getpid(), code=self.exit_code)
        self._event_log.close()
        if self._watchdog:
            self._watchdog.close()
        self._done.set()

    # ---- user commands (every view uses these) ------------------------------------------------
    async def start_service(self, name: str, reason: str = "user") -> None:
        svc = self.get(name)
        async with svc.commands:
            if self.shutting_down or svc.state in RUNNING_STATES or svc.state == State.PENDING:
                return
            svc.crashes.clear()
            self.launch(svc)

    async def stop_service(self, name: str, reason: str = "user") -> None:
        svc = self.get(name)
        async with svc.commands:
            await lifecycle.stop(self, svc, reason)
            self.sockets.retire(name)

    async def restart_service(self, name: str, reason: str = "user") -> None:
        svc = self.get(name)
        async with svc.commands:
            if self.shutting_down:
                return
            was_started = svc.spawns > 0
            if svc.child is not None and svc.child.running:  # new connections: the new sockets
                await self.sockets.handover(name)
            if self._overlaps(svc):  # the old process drains while the new one starts
                await lifecycle.hand_over(self, svc, reason)
            else:
                await lifecycle.stop(self, svc, reason)
                self.sockets.retire(name)
            if self.shutting_down:  # the stack is stopping: this stop was its stop
                return
            svc.crashes.clear()  # a user restart of a failed/backoff service starts it afresh
            if was_started:
                svc.restarts += 1
                self.emit(svc.name, "restart", None, reason=reason)
            self.launch(svc)

    def _overlaps(self, svc: Service) -> bool:
        running = svc.child is not None and svc.child.running
        return svc.spec.overlap and running and bool(self.sockets.addresses(svc.name))

    async def wait_settled(self, name: str, timeout: float = 60) -> ServiceStatus:
        """Until the service is ready, failed, stopped or exited (or timeout)."""
        svc = self.get(name)
        settled = {State.READY, State.UNHEALTHY, *DONE_STATES}
        deadline = time.monotonic() + timeout
        while svc.state not in settled and time.monotonic() < deadline:
            await self.state_change(deadline - time.monotonic())
        return self._row(svc)

    # ---- the lifecycle's Host -----------------------------------------------------------------
    def launch(self, svc: Service) -> None:
        svc.stop_requested = False
        if svc.state != State.PENDING:
            self.set_state(svc, State.PENDING)
        svc.task = asyncio.get_running_loop().create_task(lifecycle.run(self, svc))

    async def spawn(self, svc: Service, spec: SpawnSpec) -> ChildProcess:
        def on_output(stream: str, data: bytes | None) -> None:
            self.on_output(svc, stream, data)

        svc.readers = {}  # this process's tracebacks only (before its first byte arrives)
        child = await self.warm.spawn(svc, spec, on_output) if self.warm is not None else None
        if child is None:
            child = await spawn(spec, on_output)
        watchdog = self._watchdog
        if watchdog is not None:  # its group dies with us, even under kill -9 (orphan.py)
            watchdog.track(child.pid)
            child.on_released = lambda: watchdog.untrack(child.pid)
        return child

    def listen_addresses(self, name: str) -> list[str]:
        """Where the manager listens for this service: its `listen`, or in dev mode the
        address of a known server's own command line (uvicorn --port 8000, ...)."""
        svc = self.services[name]
        if svc.spec.listen:
            return list(svc.spec.listen)
        if self.dev and svc.target is None and svc.spec.command is not None:
            line = server_line(self.config.argv(name))
            return line.addresses if line is not None else []
        return []

    def held_sockets(self, svc: Service) -> list[Held]:
        addresses = self.listen_addresses(svc.name)
        if not addresses:
            self.sockets.release(svc.name)
            return []
        return self.sockets.hold(svc.name, addresses)

    def held_ports(self) -> set[int]:
        return self.sockets.ports()

    def retire_sockets(self, name: str) -> None:
        self.sockets.retire(name)

    def became_ready(self, svc: Service) -> None:
        if svc.spawns > 1:  # the restart cascade: dependents with restart = true follow
            for dep_name in self.dependents[svc.name]:
                spec = self.config.dependency(dep_name, svc.name)
                d = self.services[dep_name]
                if spec.restart and d.state in (*RUNNING_STATES, State.BACKOFF):
                    self.restart_soon(dep_name, f"dependency {svc.name} restarted")

    def ended(self, svc: Service, status: ExitStatus | None) -> None:
        if svc.foreground and not self.shutting_down:
            code = foreground_exit_code(status, svc.not_ready is not None)
            self.request_shutdown(f"foreground service {svc.name} ended", code)

    def restart_soon(self, name: str, reason: str) -> None:
        self.spawn_task(self.restart_service(name, reason))

    def on_output(self, svc: Service, stream: str, data: bytes | None) -> None:
        block = svc.log.feed(stream, data) if data is not None else svc.log.flush(stream)
        if not block:
            return
        reader = svc.readers.get(stream)
        if reader is None:
            reader = svc.readers[stream] = TracebackReader()
        reader.feed_block(block)
        msg = LogLines(svc.name, stream, block)
        probe = svc.ready_probe
        if probe is not None and probe.wants_output:
            probe.feed(msg.lines)
        self.bus.publish(msg)

    def set_state(self, svc: Service, new: State, reason: str | None = None) -> None:
        old = svc.state
        if old == new:
            return
        check_transition(old, new)
        svc.state = new
        if reason is not None or new in (State.PENDING, State.STARTING, State.READY):
            svc.reason = reason
        self._publish_row(svc, str(old))
        self._changed.set()
        self._changed = asyncio.Event()

    def _publish_row(self, svc: Service, old: str) -> None:
        self.bus.publish(StateChanged(self._row(svc), old))

    def publish_row(self, name: str) -> None:
        """A row changed without a state change (its warm template, its log file)."""
        if (svc := self.services.get(name)) is not None:
            self._publish_row(svc, str(svc.state))

    async def state_change(self, timeout: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def emit(self, service: str | None, event: str, pid: int | None, **extra: object) -> None:
        self.bus.publish(Lifecycle(service, event, pid, dict(extra)))

    def system(self, line: str) -> None:
        self.bus.publish(LogLines.text("system", "system", [line]))

    def spawn_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
