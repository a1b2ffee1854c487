"""The state machine of all services: start when dependencies are met, probes, restart policy,
backoff, cascade, foreground semantics and the orderly (reverse-order) shutdown.

Each service has one lifecycle task (wait for deps -> spawn -> ready -> run -> exit -> maybe
restart). User commands and the shutdown cancel that task and stop the process tree themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from ..config.load import Config
from . import graph
from .events import EventBus, EventLog, Lifecycle, LogLines, StateChanged
from .logs import LogLine, ServiceLog
from .orphan import Watchdog
from .probes import check, port_holder, probe_port
from .process import ExitStatus, SpawnError, SpawnSpec, spawn
from .service import Service, ServiceStatus
from .states import DONE_STATES, RUNNING_STATES, State, check_transition


class UnknownService(KeyError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = sorted(known)

    def __str__(self) -> str:
        return f"unknown service {self.name!r} (known: {', '.join(self.known)})"


class Supervisor:
    def __init__(
        self,
        config: Config,
        only: Iterable[str] = (),
        exclude: Iterable[str] = (),
        targets: dict[str, Callable[[], object]] | None = None,
        ring_lines: int = 5000,
    ) -> None:
        self.config = config
        self.bus = EventBus()
        self.run_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        enabled = config.enabled()
        for n in [*only, *exclude]:
            if n not in config.services:
                raise UnknownService(n, config.services)
        all_edges = config.edges()
        names = graph.closure(all_edges, only) if only else set(enabled)
        names -= set(exclude)
        # Keep the config's order: it is the order of the table in every view.
        self.order = [n for n in config.services if n in names and n in enabled]
        self.edges = config.edges(set(self.order))
        self.dependents = graph.dependents(self.edges)
        self.foreground = config.foreground if config.foreground in self.order else None
        self.ring_lines = ring_lines
        self.targets = targets or {}
        self.services: dict[str, Service] = {n: self._make_service(n) for n in self.order}
        self.exit_code: int | None = None
        self.shutting_down = False
        self._changed = asyncio.Event()
        self._done = asyncio.Event()
        self._shutdown_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._event_log = EventLog(config.state_dir / "logs" / "events.jsonl")
        self.bus.subscribe(self._event_log)
        self._watchdog: Watchdog | None = None

    def _make_service(self, name: str) -> Service:
        m = self.config.manager
        log = ServiceLog(
            self.config.state_dir / "logs" / f"{name}.log",
            m.log_max_bytes,
            m.log_backups,
            self.ring_lines,
        )
        svc = Service(
            name, self.config.services[name], log, name == self.foreground, self.targets.get(name)
        )
        self._configure(svc)
        return svc

    @staticmethod
    def _configure(svc: Service) -> None:
        ready = svc.cfg.ready
        svc.log_pattern = re.compile(ready.log) if ready is not None and ready.log else None

    async def apply_config(self, new: Config) -> list[str]:
        """Dev mode's config reload: restart changed services, add new ones, stop removed ones;
        unchanged services are not touched. Returns the names that changed."""
        wanted = new.enabled()
        removed = [n for n in self.services if n not in wanted]
        for name in removed:
            await self._stop(self.services[name], "config")
            self.services.pop(name).log.close()
        self.config = new
        changed = [n for n in self.services if self.services[n].cfg != wanted[n]]
        added = [n for n in wanted if n not in self.services]
        for name in changed:
            self.services[name].cfg = wanted[name]
            self._configure(self.services[name])
        for name in added:
            self.services[name] = self._make_service(name)
        self.order = [n for n in new.services if n in self.services]
        self.edges = new.edges(set(self.order))
        self.dependents = graph.dependents(self.edges)
        for name in changed:
            self._spawn_task(self.restart_service(name, "config"))
        for name in added:
            self._launch(self.services[name])
        if removed or changed or added:
            self._system(f"config applied: added {added}, changed {changed}, removed {removed}")
        return removed + changed + added

    # ---- views' seam -------------------------------------------------------------------------
    def snapshot(self) -> list[ServiceStatus]:
        return [self.services[n].status(self._deps_view(n)) for n in self.order]

    def _deps_view(self, name: str) -> dict[str, str]:
        deps = self.config.services[name].dependencies()
        return {d: spec.condition for d, spec in deps.items() if d in self.services}

    def logs(self, name: str, n: int = 100) -> list[LogLine]:
        return self._get(name).log.tail(n)

    def log_path(self, name: str) -> str:
        return str(self._get(name).log.file.path)

    def _get(self, name: str) -> Service:
        if name not in self.services:
            raise UnknownService(name, self.services)
        return self.services[name]

    # ---- running the stack -------------------------------------------------------------------
    async def run(self) -> int:
        await self.start()
        return await self.wait()

    async def start(self) -> None:
        self._watchdog = Watchdog(self.run_id)
        self._emit(
            None, "manager_start", os.getpid(), run_id=self.run_id, config=str(self.config.path)
        )
        for svc in self.services.values():
            self._launch(svc)
        if not self.services:
            self.request_shutdown("nothing to run")

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    async def wait(self) -> int:
        await self._done.wait()
        return self.exit_code if self.exit_code is not None else 0

    def request_shutdown(self, reason: str = "user", exit_code: int | None = None) -> None:
        """The orderly stop; idempotent. The first exit code set wins."""
        if self.exit_code is None:
            self.exit_code = exit_code if exit_code is not None else 0
        if self._shutdown_task is None:
            self.shutting_down = True
            self._system(f"stopping ({reason})")
            self._shutdown_task = asyncio.get_running_loop().create_task(self._shutdown(reason))

    def force_kill(self) -> None:
        """Second Ctrl+C: SIGKILL every tree now, exit 130."""
        self.exit_code = 130
        self.shutting_down = True
        self._system("killing every process now")
        for svc in self.services.values():
            if svc.lifecycle:
                with contextlib.suppress(RuntimeError):  # also safe once the loop is closed
                    svc.lifecycle.cancel()
            if svc.child:
                svc.child.kill_now()
        self._finish()

    async def _shutdown(self, reason: str) -> None:
        for svc in self.services.values():
            svc.stop_requested = True
        stopped = {n: asyncio.Event() for n in self.services}

        async def stop_after_dependents(name: str) -> None:
            # Reverse dependency order: nobody goes before everything that needs it is gone.
            for dep in self.dependents[name]:
                await stopped[dep].wait()
            await self._stop(self.services[name], "shutdown")
            stopped[name].set()

        await asyncio.gather(*(stop_after_dependents(n) for n in self.services))
        self._finish()

    def _finish(self) -> None:
        if self._done.is_set():
            return
        for svc in self.services.values():
            svc.log.close()
        self._emit(None, "manager_stop", os.getpid(), code=self.exit_code)
        self._event_log.close()
        if self._watchdog:
            self._watchdog.close()
        self._done.set()

    # ---- user commands (the dashboard, the socket and the API share these) -------------------
    async def start_service(self, name: str, reason: str = "user") -> None:
        svc = self._get(name)
        if self.shutting_down or svc.state in RUNNING_STATES or svc.state == State.PENDING:
            return
        svc.crashes.clear()
        self._launch(svc)

    async def stop_service(self, name: str, reason: str = "user") -> None:
        await self._stop(self._get(name), reason)

    async def restart_service(self, name: str, reason: str = "user") -> None:
        svc = self._get(name)
        if self.shutting_down:
            return
        was_started = svc.spawns > 0
        await self._stop(svc, reason)
        svc.crashes.clear()  # a user restart of a failed/backoff service starts it afresh
        if was_started:
            svc.restarts += 1
            self._emit(svc.name, "restart", None, reason=reason)
        self._launch(svc)

    async def wait_settled(self, name: str, timeout: float = 60) -> ServiceStatus:
        """Until the service is ready, failed, stopped or exited (or timeout)."""
        svc = self._get(name)
        settled = {State.READY, State.UNHEALTHY, *DONE_STATES}
        deadline = time.monotonic() + timeout
        while svc.state not in settled and time.monotonic() < deadline:
            await self._state_change(deadline - time.monotonic())
        return svc.status(self._deps_view(name))

    # ---- the lifecycle -----------------------------------------------------------------------
    def _launch(self, svc: Service) -> None:
        svc.stop_requested = False
        if svc.state != State.PENDING:
            self._set(svc, State.PENDING)
        svc.lifecycle = asyncio.get_running_loop().create_task(self._lifecycle(svc))

    async def _lifecycle(self, svc: Service) -> None:
        while True:
            failure = await self._wait_for_dependencies(svc)
            if failure:
                return self._give_up(svc, failure)
            status = await self._run_once(svc)
            if status is None or svc.stop_requested:
                return
            delay = self._restart_delay(svc, status)
            if delay is None:
                return
            self._set(svc, State.BACKOFF, f"{status.describe()}, restarting in {delay:g}s")
            await asyncio.sleep(delay)
            svc.restarts += 1
            self._emit(svc.name, "restart", None, reason=status.describe())
            self._set(svc, State.PENDING)

    async def _wait_for_dependencies(self, svc: Service) -> str | None:
        deps = {d: s for d, s in svc.cfg.dependencies().items() if d in self.services}
        while True:
            waiting = False
            for dep, spec in deps.items():
                d = self.services[dep]
                if d.state == State.FAILED:
                    return f"dependency {dep} failed"
                if spec.condition == "completed":
                    waiting |= d.state != State.EXITED
                elif spec.condition == "started":
                    waiting |= not (d.state in RUNNING_STATES or d.state == State.EXITED)
                else:
                    if d.state == State.EXITED:
                        return f"dependency {dep} exited before it was ready"
                    waiting |= d.state not in (State.READY, State.UNHEALTHY)
            if not waiting:
                return None
            await self._state_change()

    async def _run_once(self, svc: Service) -> ExitStatus | None:
        """Spawn, wait for ready, run until exit. None: it never started (already failed)."""
        cfg = svc.cfg
        for probe in (cfg.ready, cfg.health):
            hp = probe_port(probe)
            holder = hp and port_holder(*hp)
            if hp and holder:
                self._give_up(svc, f"port {hp[1]} is already in use by {holder}")
                return None
        spec = SpawnSpec(
            argv=None if svc.target else self.config.argv(svc.name),
            target=svc.target,
            cwd=str(self.config.resolve(cfg.cwd)),
            env={
                **self.config.service_env(svc.name),
                "AUTOGPT_DEV_SERVICE": svc.name,
                "AUTOGPT_DEV_STATE_DIR": str(self.config.state_dir),
            },
            marker=f"{self.run_id}:{svc.name}",
            tty=cfg.tty,
        )
        svc.log_matched.clear()
        try:
            child = await spawn(spec, lambda stream, data: self._on_output(svc, stream, data))
        except SpawnError as e:
            self._give_up(svc, str(e))
            return None
        svc.child, svc.spawns = child, svc.spawns + 1
        svc.started_at, svc.ready_at, svc.probe = child.started_at, None, None
        svc.exit_code = svc.exit_signal = None
        self._set(svc, State.STARTING)
        self._emit(svc.name, "spawn", child.pid, command=spec.argv or svc.name)
        probes = asyncio.get_running_loop().create_task(self._probe_loop(svc))
        try:
            status = await child.wait()
        finally:
            probes.cancel()
        self._record_exit(svc, status)
        # The main process is gone: so must be its tree (a leftover could hold the port or the
        # pipe the next generation needs), as systemd does for a service's control group.
        if child.tree():
            await child.stop(svc.cfg.stop_signal_number, svc.cfg.stop_timeout)
        await child.drained(timeout=1.0)
        return status

    def _record_exit(self, svc: Service, status: ExitStatus) -> None:
        if svc.exit_code is None and svc.exit_signal is None and svc.child:
            svc.exit_code, svc.exit_signal = status.code, status.signal
            self._emit(svc.name, "exit", svc.child.pid, code=status.code, signal=status.signal)

    def _restart_delay(self, svc: Service, status: ExitStatus) -> float | None:
        """None: do not restart (the service is settled as exited/failed)."""
        policy = self.config.restart_policy(svc.name)
        if svc.reason and svc.reason.startswith("not ready"):
            self._give_up(svc, svc.reason, status)
            return None
        if policy == "no" or (policy == "on-failure" and status.code == 0):
            if status.code == 0:
                self._set(svc, State.EXITED, "exit 0")
                self._foreground_ended(svc, status)
            else:
                self._give_up(svc, status.describe(), status)
            return None
        now = time.monotonic()
        svc.crashes.append(now)
        while svc.crashes and svc.crashes[0] < now - svc.cfg.restart_window:
            svc.crashes.popleft()
        if len(svc.crashes) > svc.cfg.max_restarts:
            why = f"{status.describe()}; crashed {len(svc.crashes)} times in "
            self._give_up(svc, why + f"{svc.cfg.restart_window:g}s", status)
            return None
        return float(min(svc.cfg.backoff * 2 ** (len(svc.crashes) - 1), svc.cfg.backoff_max))

    def _give_up(self, svc: Service, reason: str, status: ExitStatus | None = None) -> None:
        self._set(svc, State.FAILED, reason)
        self._emit(svc.name, "failed", svc.child.pid if svc.child else None, reason=reason)
        self._foreground_ended(svc, status)

    def _foreground_ended(self, svc: Service, status: ExitStatus | None) -> None:
        if not svc.foreground or self.shutting_down:
            return
        # It ran and exited with N -> N. Never spawned, never ready, a dependency failed -> 1.
        never_started = status is None or bool(svc.reason and svc.reason.startswith("not ready"))
        code = 1 if never_started or status is None else status.as_exit_code
        self.request_shutdown(f"foreground service {svc.name} ended", code)

    async def _probe_loop(self, svc: Service) -> None:
        cfg, child = svc.cfg, svc.child
        assert child is not None
        ready = cfg.ready
        if ready is not None:
            deadline = time.monotonic() + cfg.ready_timeout
            ok = False
            while not ok and time.monotonic() < deadline:
                if ready.log is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(svc.log_matched.wait(), deadline - time.monotonic())
                    ok, svc.probe = svc.log_matched.is_set(), f"log /{ready.log}/"
                else:
                    ok, svc.probe = await self._check(svc, ready)
                    if not ok:
                        await asyncio.sleep(ready.interval or 0.2)
            if not ok:
                svc.reason = f"not ready after {cfg.ready_timeout:g}s ({svc.probe})"
                self._system(f"{svc.name}: {svc.reason}; stopping it")
                await child.stop(cfg.stop_signal_number, cfg.stop_timeout)
                return
        svc.ever_ready, svc.ready_at = True, time.time()
        self._set(svc, State.READY)
        self._emit(svc.name, "ready", child.pid, after=round(svc.ready_at - child.started_at, 3))
        if svc.spawns > 1:
            self._cascade(svc)
        if cfg.health is not None:
            await self._health_loop(svc)

    async def _health_loop(self, svc: Service) -> None:
        health = svc.cfg.health
        assert health is not None
        failures = 0
        while True:
            await asyncio.sleep(health.interval or 5)
            ok, svc.probe = await self._check(svc, health)
            failures = 0 if ok else failures + 1
            if ok and svc.state == State.UNHEALTHY:
                self._set(svc, State.READY, "healthy again")
            elif failures == health.failures:
                self._set(svc, State.UNHEALTHY, svc.probe)
                self._emit(
                    svc.name, "unhealthy", svc.child.pid if svc.child else None, reason=svc.probe
                )
                if self.config.restart_policy(svc.name) != "no":
                    self._spawn_task(self.restart_service(svc.name, "unhealthy"))
                    return

    async def _check(self, svc: Service, probe: object) -> tuple[bool, str]:
        from ..config.model import Probe

        assert isinstance(probe, Probe)
        cwd = str(self.config.resolve(svc.cfg.cwd))
        return await check(probe, cwd, self.config.service_env(svc.name))

    def _cascade(self, svc: Service) -> None:
        for dep_name in self.dependents[svc.name]:
            spec = self.config.dependency(dep_name, svc.name)
            d = self.services[dep_name]
            if spec.restart and d.state in (*RUNNING_STATES, State.BACKOFF):
                self._spawn_task(self.restart_service(dep_name, f"dependency {svc.name} restarted"))

    async def _stop(self, svc: Service, reason: str) -> None:
        svc.stop_requested = True
        task, svc.lifecycle = svc.lifecycle, None
        if task and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        child = svc.child
        if svc.state in RUNNING_STATES:
            self._set(svc, State.STOPPING, reason)
        if child and (child.running or child.tree()):
            self._emit(svc.name, "stop", child.pid, reason=reason)
            status = await child.stop(svc.cfg.stop_signal_number, svc.cfg.stop_timeout)
            self._record_exit(svc, status)
        if child:
            await child.drained(timeout=1.0)  # the last lines reach the log before we go on
        # At shutdown a service that already settled keeps saying why (failed: exit 3).
        settled = svc.state in (State.FAILED, State.EXITED) and reason == "shutdown"
        if svc.state != State.STOPPED and not settled:
            self._set(svc, State.STOPPED, reason)

    # ---- output, events, state -----------------------------------------------------------------
    def _on_output(self, svc: Service, stream: str, data: bytes | None) -> None:
        block = svc.log.feed(stream, data) if data is not None else svc.log.flush(stream)
        if not block:
            return
        msg = LogLines(svc.name, stream, block)
        pattern = svc.log_pattern
        if pattern and not svc.log_matched.is_set() and any(pattern.search(x) for x in msg.lines):
            svc.log_matched.set()
        self.bus.publish(msg)

    def _set(self, svc: Service, new: State, reason: str | None = None) -> None:
        old = svc.state
        if old == new:
            return
        check_transition(old, new)
        svc.state = new
        if reason is not None or new in (State.PENDING, State.STARTING, State.READY):
            svc.reason = reason
        self.bus.publish(StateChanged(svc.name, str(old), str(new), reason))
        self._changed.set()
        self._changed = asyncio.Event()

    async def _state_change(self, timeout: float | None = None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)

    def _emit(self, service: str | None, event: str, pid: int | None, **extra: object) -> None:
        self.bus.publish(Lifecycle(service, event, pid, dict(extra)))

    def _system(self, line: str) -> None:
        self.bus.publish(LogLines.text("system", "system", [line]))

    def _spawn_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
