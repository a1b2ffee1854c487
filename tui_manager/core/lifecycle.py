"""One service's lifecycle: wait for dependencies -> spawn -> ready -> run -> exit -> maybe
restart. It applies the decisions of policy.py and reaches the rest of the engine only through
the narrow Host protocol (the Supervisor implements it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from ..base import paths
from ..config.config import Config
from . import policy, tracebacks
from .environment import child_env
from .process import ChildProcess, SpawnError, SpawnSpec
from .service import Service
from .sockets import Held
from .startspec import start_spec
from .states import ExitStatus, NotReady, State
from .warm import bootstrap


class Host(Protocol):
    config: Config
    services: dict[str, Service]
    run_id: str
    shutting_down: bool
    dev: bool

    def set_state(self, svc: Service, new: State, reason: str | None = None) -> None: ...
    def emit(self, service: str | None, event: str, pid: int | None, **extra: object) -> None: ...
    def system(self, line: str) -> None: ...
    async def state_change(self, timeout: float | None = None) -> None: ...
    def on_output(self, svc: Service, stream: str, data: bytes | None) -> None: ...
    def became_ready(self, svc: Service) -> None: ...
    def ended(self, svc: Service, status: ExitStatus | None) -> None: ...
    def restart_soon(self, name: str, reason: str) -> None: ...
    async def spawn(self, svc: Service, spec: SpawnSpec) -> ChildProcess: ...
    def held_sockets(self, svc: Service) -> list[Held]: ...
    def held_ports(self) -> set[int]: ...
    def retire_sockets(self, name: str) -> None: ...
    def spawn_task(self, coro: Coroutine[Any, Any, None]) -> None: ...


async def run(host: Host, svc: Service) -> None:
    """The lifecycle task of one service; cancelled by a stop."""
    while True:
        failure = await wait_for_dependencies(host, svc)
        if failure:
            return give_up(host, svc, failure)
        status = await run_once(host, svc)
        if status is None or svc.stop_requested:
            return
        rules = policy.RestartRules(
            host.config.restart_policy(svc.name),
            svc.spec.backoff,
            svc.spec.backoff_max,
            svc.spec.max_restarts,
            svc.spec.restart_window,
        )
        decision = policy.after_exit(
            rules,
            status,
            svc.crashes,
            time.monotonic(),
            svc.not_ready,
            dev=host.dev,
            was_ready=svc.ever_ready,
        )
        reason = with_error(svc, decision.reason)
        if not decision.restart:
            if decision.state == State.EXITED:
                host.set_state(svc, State.EXITED, reason)
                host.ended(svc, status)
            elif decision.state == State.CRASHED:  # the next edit (or `r`) starts it
                host.set_state(svc, State.CRASHED, reason)
            else:
                give_up(host, svc, reason, status)
            return
        host.set_state(svc, State.BACKOFF, reason)
        await asyncio.sleep(decision.delay)
        svc.restarts += 1
        host.emit(svc.name, "restart", None, reason=status.describe())
        host.set_state(svc, State.PENDING)


async def wait_for_dependencies(host: Host, svc: Service) -> str | None:
    """None once every dependency meets its condition; else why it never will."""
    deps = {d: s for d, s in svc.spec.dependencies().items() if d in host.services}
    while True:
        waiting = False
        for dep, spec in deps.items():
            verdict, why = policy.dependency(spec.condition, host.services[dep].state)
            if verdict == policy.Wait.FAILED:
                return f"dependency {dep} {why}"
            waiting |= verdict == policy.Wait.WAITING
        if not waiting:
            return None
        await host.state_change()


def spawn_spec(host: Host, svc: Service) -> SpawnSpec:
    config = host.config
    if svc.target is not None:
        payload = paths.payload_path(config.state_dir, svc.name)
        try:
            bootstrap.write_payload(svc.target.process, payload, svc.target.silent)
        except Exception as e:  # pickle raises several kinds; each is the user's to fix
            kind = type(svc.target.process).__name__
            raise SpawnError(f"cannot start {kind}: it cannot be pickled ({e})") from None
    svc.base_env = child_env(config, svc.name)  # read from the disk now: .env edits apply
    return start_spec(config, svc, host.run_id, svc.base_env, host.held_sockets(svc))


async def run_once(host: Host, svc: Service) -> ExitStatus | None:
    """Spawn, wait for ready, run until exit. None: it never started (already failed)."""
    ours = host.held_ports()  # (a probe of a port the manager holds finds it taken: by us)
    for probe in (svc.ready_probe, svc.health_probe):
        hp = probe.local_port() if probe else None
        if hp and hp[1] not in ours:
            from .probes import port_holder

            holder = port_holder(*hp)
            if holder:
                give_up(host, svc, f"port {hp[1]} is already {holder}")
                return None
    if svc.ready_probe:
        svc.ready_probe.new_generation()
    svc.not_ready = None
    try:
        child = await host.spawn(svc, spawn_spec(host, svc))
    except SpawnError as e:
        give_up(host, svc, str(e))
        return None
    except Exception as e:  # anything else a spawn raises is loud too, and never blocks a stop
        give_up(host, svc, f"cannot start: {type(e).__name__}: {e}")
        return None
    svc.child, svc.spawns, svc.ever_ready = child, svc.spawns + 1, False
    svc.started_at, svc.ready_at, svc.probe = child.started_at, None, None
    svc.exit_code = svc.exit_signal = None
    host.set_state(svc, State.STARTING)
    host.emit(svc.name, "spawn", child.pid, command=child.command)
    probes = asyncio.get_running_loop().create_task(probe_loop(host, svc, child))
    try:
        status = await child.wait()
    finally:
        probes.cancel()
    await child.drained(timeout=0.5)  # what it printed last (its traceback) before its exit
    record_exit(host, svc, status)
    # The main process is gone: so must be its tree (a leftover could hold the port or the
    # pipe the next generation needs), as systemd does for a service's control group.
    if child.tree():
        await child.stop(svc.spec.stop_signal_number, svc.spec.stop_timeout)
    else:
        child.release()
    await child.drained(timeout=1.0)
    return status


def record_exit(host: Host, svc: Service, status: ExitStatus) -> None:
    if svc.exit_code is None and svc.exit_signal is None and svc.child:
        svc.exit_code, svc.exit_signal = status.code, status.signal
        extra: dict[str, object] = {"requested": svc.stop_requested}
        svc.exit_error = None
        if not status.clean and not svc.stop_requested:
            svc.exit_error = crash_error(host, svc)
            if svc.exit_error is not None:
                svc.last_error = extra["error"] = svc.exit_error
        host.emit(svc.name, "exit", svc.child.pid, code=status.code, signal=status.signal, **extra)


def crash_error(host: Host, svc: Service) -> dict[str, Any] | None:
    """The Python error the process's output ended with (its output has been read)."""
    for reader in svc.readers.values():
        reader.flush()
    err = tracebacks.ends_in_traceback(list(svc.readers.values()))
    if err is None:
        return None
    return tracebacks.record(err, host.config.root, host.config.resolve(svc.spec.cwd))


def with_error(svc: Service, reason: str) -> str:
    """`KeyError: 'x' · app/api.py:5 · exit 1, restarting in 1s`: what broke comes first."""
    if svc.last_error is None or (svc.exit_code in (0, None) and svc.exit_signal is None):
        return reason
    return f"{tracebacks.summary(svc.last_error)} · {reason}"


def give_up(host: Host, svc: Service, reason: str, status: ExitStatus | None = None) -> None:
    host.set_state(svc, State.FAILED, reason)
    host.emit(svc.name, "failed", svc.child.pid if svc.child else None, reason=reason)
    host.ended(svc, status)


async def probe_loop(host: Host, svc: Service, child: ChildProcess) -> None:
    spec = svc.spec
    probe = svc.ready_probe
    if probe is not None:
        ok, svc.probe = await probe.wait_ready(time.monotonic() + spec.ready_timeout)
        if not ok:
            svc.not_ready = NotReady(spec.ready_timeout, svc.probe)
            host.system(f"{svc.name}: {svc.not_ready}; stopping it")
            await child.stop(spec.stop_signal_number, spec.stop_timeout)
            return
    svc.ready_at, svc.ever_ready = time.time(), True
    host.set_state(svc, State.READY)
    host.emit(svc.name, "ready", child.pid, after=round(svc.ready_at - child.started_at, 3))
    host.became_ready(svc)
    if svc.health_probe is not None:
        await health_loop(host, svc)


async def health_loop(host: Host, svc: Service) -> None:
    probe = svc.health_probe
    assert probe is not None
    failures = 0
    while True:
        await asyncio.sleep(probe.spec.interval or 5)
        ok, svc.probe = await probe.checked()
        failures = 0 if ok else failures + 1
        if ok and svc.state == State.UNHEALTHY:
            host.set_state(svc, State.READY, "healthy again")
        elif failures == probe.spec.failures:
            host.set_state(svc, State.UNHEALTHY, svc.probe)
            host.emit(svc.name, "unhealthy", svc.child.pid if svc.child else None, reason=svc.probe)
            if host.config.restart_policy(svc.name) != "no":
                host.restart_soon(svc.name, "unhealthy")
                return


async def hand_over(host: Host, svc: Service, reason: str) -> None:
    """`overlap = true`: the running process is asked to stop and finishes its requests in the
    background while the caller starts the new one; both accept on the held sockets meanwhile.
    The service is settled as stopped at once (the old process is no longer its own)."""
    child = svc.child
    await _end_lifecycle(host, svc)
    if svc.state in (State.STARTING, State.READY, State.UNHEALTHY):
        host.set_state(svc, State.STOPPING, reason)
    if child is not None and child.running:
        host.emit(svc.name, "stop", child.pid, reason=f"{reason}, overlapping")
        svc.draining.add(child)
        host.spawn_task(_drain(host, svc, child))
    svc.child = None
    if svc.state != State.STOPPED:
        host.set_state(svc, State.STOPPED, reason)


async def _drain(host: Host, svc: Service, child: ChildProcess) -> None:
    try:
        status = await child.stop(svc.spec.stop_signal_number, svc.spec.stop_timeout)
        host.emit(
            svc.name, "exit", child.pid, code=status.code, signal=status.signal, requested=True
        )
        await child.drained(timeout=1.0)
    finally:
        svc.draining.discard(child)
        host.retire_sockets(svc.name)


async def _end_lifecycle(host: Host, svc: Service) -> None:
    svc.stop_requested = True
    task, svc.task = svc.task, None
    if task and task is not asyncio.current_task():
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        except Exception as e:  # a lifecycle that broke must not break the stop (loudly)
            host.system(f"{svc.name}: {type(e).__name__}: {e} (while it was stopped)")


async def stop(host: Host, svc: Service, reason: str) -> None:
    """Stop the service (its lifecycle task, its whole tree, and any process of it still
    finishing its requests after an overlapping restart); settle it as stopped."""
    for old in list(svc.draining):
        await old.stop(svc.spec.stop_signal_number, svc.spec.stop_timeout)
    await _end_lifecycle(host, svc)
    child = svc.child
    if svc.state in (State.STARTING, State.READY, State.UNHEALTHY):
        host.set_state(svc, State.STOPPING, reason)
    if child and (child.running or child.tree()):
        host.emit(svc.name, "stop", child.pid, reason=reason)
        status = await child.stop(svc.spec.stop_signal_number, svc.spec.stop_timeout)
        record_exit(host, svc, status)
    if child:
        await child.drained(timeout=1.0)  # the last lines reach the log before we go on
    # At shutdown a service that already settled keeps saying why (failed: exit 3).
    settled = svc.state in (State.FAILED, State.EXITED) and reason == "shutdown"
    if svc.state != State.STOPPED and not settled:
        host.set_state(svc, State.STOPPED, reason)
