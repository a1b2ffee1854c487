"""The warm pool (dev mode): a template per eligible service, built once the service has settled
(so it never competes with the stack's own start), rebuilt when stale, and asked for each start.

`spawn()` returns the forked child, or None for a cold start, and records which it was and why
in `outcome` (the `reload` event reports it). The manager becomes a child subreaper with the
first template: forked services are reparented to it and reaped as its own (reaper.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from ... import platform
from ...base import paths
from ...config.config import Config
from ...platform import exits
from ..environment import child_env
from ..process import ChildProcess, OutputCallback, SpawnError, SpawnSpec
from ..service import Service
from ..sockets import Held
from ..startspec import start_spec
from ..status import ServiceStatus
from .entry import Want, ahead
from .plan import WarmPlan, plan
from .reaper import OWNED, OrphanReaper
from .templates import Hold, Refused, Template, preload_list

REBUILDS_PER_MINUTE = 3  # a template that keeps dying is left dead: every start is cold


class Prepared(NamedTuple):
    """A restart's process forked ahead, importing the new project code while the old process
    stops; it runs the entry once `go` is written to."""

    spec: SpawnSpec
    child: ChildProcess
    go: int  # the manager writes its go-ahead here
    ready: int  # the process says here whether it prepared cleanly
    muted: list[bool]  # [True] once discarded: its output is nobody's


class WarmHost(Protocol):
    """What the pool needs of the engine (the Supervisor is one)."""

    config: Config
    run_id: str

    @property
    def services(self) -> Mapping[str, Service]: ...

    def on_output(self, svc: Service, stream: str, data: bytes | None) -> None: ...

    async def wait_settled(self, name: str, timeout: float = 60) -> ServiceStatus: ...

    def publish_row(self, name: str) -> None:
        """The service's row changed (its template did)."""
        ...

    def held_sockets(self, svc: Service) -> list[Held]:
        """The sockets the manager holds for it (bound at its first start)."""
        ...


class WarmPool:
    def __init__(self, sup: WarmHost) -> None:
        self.sup = sup
        self.templates: dict[str, Template] = {}
        self.outcome: dict[str, tuple[str, str | None]] = {}  # name -> (warm | cold, why)
        self.reaper = OrphanReaper(self._known)
        self._wanted: dict[str, Want] = {}
        self._cold_next: dict[str, str] = {}  # name -> why its next start is cold
        self._builds: dict[str, asyncio.Task[None]] = {}
        self._deaths: dict[str, list[float]] = {}
        self._prepared: dict[str, asyncio.Task[Prepared | None]] = {}
        self.ahead: dict[str, str] = {}  # name -> "used", or why its last prepared one was not
        self._held: set[int] = set()
        self._closed = False

    # ---- what and how ------------------------------------------------------------------------
    def plan(self, name: str, spec: SpawnSpec | None = None) -> WarmPlan | str:
        """How `name` starts warm, or why not; from `spec` when the start has built it already
        (its environment was just read from disk: not again)."""
        svc = self.sup.services[name]
        if not svc.spec.warm:
            return "warm = false"
        if (want := self._wanted.get(name)) is not None and want.refusal is not None:
            return want.refusal
        if platform.CAPS.warm_refusal:
            return platform.CAPS.warm_refusal
        if svc.spec.tty:
            return "tty = true"
        try:
            spec = spec or self._spec(name)
        except SpawnError as e:
            return str(e)
        return plan(spec.argv, spec.cwd, spec.env)

    def _spec(self, name: str) -> SpawnSpec:
        """The spec a start of `name` gets now (as lifecycle.spawn_spec builds it). Raises
        SpawnError (its sockets cannot be bound: its start will say so)."""
        svc = self.sup.services[name]
        env = child_env(self.sup.config, name)
        return start_spec(self.sup.config, svc, self.sup.run_id, env, self.sup.held_sockets(svc))

    def want(self, name: str, want: Want) -> None:
        """What the service's code imports (from the reloader's import walk, entry.py): build
        its template, or rebuild it if that changed, once the service has settled."""
        if self._closed or name not in self.sup.services:
            return
        old = self._wanted.get(name)
        # (what the template imports: a new `prepare` alone needs no new template)
        changed = old is None or (old.preload, old.target_in_project) != (
            want.preload,
            want.target_in_project,
        )
        self._wanted[name] = want
        if want.refusal is not None:
            return
        t = self.templates.get(name)
        if t is None or (changed and t.state == "ready") or t.state == "failed":
            self._schedule(name)

    def invalidate(self, why: str) -> None:
        """Every template is stale (a packaging file changed): the next starts are cold."""
        for name in list(self.templates):
            self._cold_next[name] = why
            self._schedule(name)

    # ---- starting ----------------------------------------------------------------------------
    def prepare(self, name: str) -> object:
        """A dev-mode restart is coming: fork its process now, so it runs ahead what its cold
        start runs first (entry.py) while the old process stops. The start that follows uses
        it if nothing changed meanwhile and it prepared cleanly (spawn). Returns a token for
        `unprepare`, which the restart calls once it is over, whether the process was used."""
        if self._closed or name not in self.sup.services:
            return None
        self._drop_prepared(name)
        task = asyncio.get_running_loop().create_task(self._prepare(name))
        self._prepared[name] = task
        return task

    def unprepare(self, name: str, token: object) -> None:
        """Not used by the restart it was made for (the service stayed stopped, or the restart
        was superseded): never by a later start, which would run code imported back then."""
        if token is not None and self._prepared.get(name) is token:
            self._drop_prepared(name)

    async def _prepare(self, name: str) -> Prepared | None:
        p = self.plan(name)
        t = self.templates.get(name)
        want = self._wanted.get(name)
        if name in self._cold_next or isinstance(p, str) or t is None or want is None:
            return None
        request = ahead(want.prepare) if want.prepare is not None else None
        if request is None:  # nothing to run ahead: a plain fork is as fast
            return None
        try:
            spec = self._spec(name)
        except SpawnError:
            return None
        if t.stale(p, spec.env) is not None:
            return None
        muted = [False]

        def on_output(stream: str, data: bytes | None) -> None:
            if not muted[0] and name in self.sup.services:
                self.sup.on_output(self.sup.services[name], stream, data)

        go_r, go_w = os.pipe()
        ready_r, ready_w = os.pipe()
        try:
            child = await t.fork(spec, on_output, Hold(go_r, ready_w, request))
        except Refused:
            os.close(go_w)
            os.close(ready_r)
            return None
        finally:
            os.close(go_r)
            os.close(ready_w)
        self._held.add(child.pid)
        return Prepared(spec, child, go_w, ready_r, muted)

    async def _take_prepared(self, name: str, spec: SpawnSpec) -> ChildProcess | None:
        task = self._prepared.pop(name, None)
        if task is None:
            return None
        try:
            prepared = await task
        except Exception:  # a fork that failed: this start goes the usual way
            return None
        if prepared is None:
            return None
        if prepared.spec != spec:
            self._discard(prepared)  # the config or .env changed in between
            return None
        why = await _word_from(prepared.ready, self.sup.services[name].spec.ready_timeout)
        if why is None and not prepared.child.running:
            why = "it exited while it waited"
        if why is not None:  # it did not prepare cleanly: a plain fork starts as cold would
            self.ahead[name] = why
            self._discard(prepared)
            return None
        try:
            os.write(prepared.go, b"1")
        except OSError:
            self._discard(prepared)
            return None
        for fd in (prepared.go, prepared.ready):  # (both: the soak counted one fd per reload)
            os.close(fd)
        self.ahead[name] = "used"
        self._held.discard(prepared.child.pid)
        prepared.child.started_at = time.time()  # it starts running now, not at the fork
        return prepared.child

    def _drop_prepared(self, name: str) -> None:
        task = self._prepared.pop(name, None)
        if task is None:
            return

        def done(t: asyncio.Task[Prepared | None]) -> None:
            result = None if t.cancelled() or t.exception() else t.result()
            if result is not None:
                self._discard(result)

        task.add_done_callback(done)  # called soon even when the task is done already

    def _discard(self, prepared: Prepared) -> None:
        """Not needed after all: EOF on its pipe, and it exits 0 without running anything."""
        prepared.muted[0] = True
        for fd in (prepared.go, prepared.ready):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._held.discard(prepared.child.pid)

    async def spawn(
        self, svc: Service, spec: SpawnSpec, on_output: OutputCallback
    ) -> ChildProcess | None:
        name = svc.name
        prepared = await self._take_prepared(name, spec)
        if prepared is not None:
            self.outcome[name] = ("warm", None)
            return prepared
        p = self.plan(name, spec)
        if isinstance(p, str):
            self.outcome[name] = ("cold", p)
            return None
        t = self.templates.get(name)
        why = self._cold_next.pop(name, None)
        if why is not None:  # invalidate() has already scheduled the rebuild
            self.outcome[name] = ("cold", why)
            return None
        why = t.stale(p, spec.env) if t is not None else "no template yet"
        if why is not None:
            self.outcome[name] = ("cold", why)
            if t is not None and t.state != "building":
                self._schedule(name)
            return None
        assert t is not None
        try:
            child = await t.fork(spec, on_output)
        except Refused as e:
            self.outcome[name] = ("cold", str(e))
            self._schedule(name)
            return None
        self.outcome[name] = ("warm", None)
        return child

    # ---- templates ---------------------------------------------------------------------------
    def _schedule(self, name: str) -> None:
        if self._closed or (name in self._builds and not self._builds[name].done()):
            return
        self._builds[name] = asyncio.get_running_loop().create_task(self._build(name))

    async def _build(self, name: str) -> None:
        svc = self.sup.services.get(name)
        if svc is None:
            return
        # After the service has settled: a template's imports must not slow the service's start.
        await self.sup.wait_settled(name, svc.spec.ready_timeout + 5)
        p = self.plan(name)
        if isinstance(p, str) or self._closed or name not in self.sup.services:
            return
        want = self._wanted.get(name, Want((), True, None))
        old = self.templates.pop(name, None)
        if old is not None:
            old.close()
            await asyncio.to_thread(old.reap)
        if not self.reaper_started():
            return
        try:
            env = self._spec(name).env  # (exactly a start's, LISTEN_FDS included)
        except SpawnError:
            return
        config = self.sup.config
        t = Template(
            name,
            p,
            str(config.resolve(svc.spec.cwd)),
            env,
            f"{self.sup.run_id}:{name}:template",
            paths.logs_dir(config.state_dir) / f"{name}.template.log",
        )
        self.templates[name] = t
        await t.build(preload_list(want.preload, p, want.target_in_project))
        if t.state == "ready" and t.proc is not None:
            self._watch_exit(name, t)
        self.sup.publish_row(name)

    def reaper_started(self) -> bool:
        if not self.reaper.running:
            if not platform.become_subreaper():
                return False
            self.reaper.start()
        return True

    def _watch_exit(self, name: str, t: Template) -> None:
        assert t.proc is not None
        proc = t.proc

        def exited(status: int) -> None:
            proc.returncode = code = os.waitstatus_to_exitcode(status)  # reaped: not again
            if self._closed or self.templates.get(name) is not t or t.state != "ready":
                return
            t.state, t.reason = "failed", f"the template exited ({_describe(code)})"
            self.sup.publish_row(name)
            now = time.monotonic()
            deaths = [d for d in self._deaths.get(name, []) if now - d < 60] + [now]
            self._deaths[name] = deaths
            if len(deaths) <= REBUILDS_PER_MINUTE:
                self._schedule(name)

        exits.watch(proc.pid, exited)

    def _known(self) -> set[int]:
        pids = set(OWNED)
        for svc in self.sup.services.values():
            if svc.child is not None and svc.child.running:
                pids.add(svc.child.pid)
        pids.update(t.proc.pid for t in self.templates.values() if t.proc is not None)
        return pids | self._held

    # ---- views -------------------------------------------------------------------------------
    def status(self, name: str) -> dict[str, Any] | None:
        t = self.templates.get(name)
        kind, why = self.outcome.get(name, (None, None))
        if t is None and kind is None:
            return None
        out: dict[str, Any] = t.status() if t is not None else {"state": "none"}
        out["last_start"] = kind
        out["last_cold_reason"] = why
        out["ahead"] = self.ahead.get(name)  # "used", or why the last start did not use one
        return out

    async def close(self) -> None:
        self._closed = True
        for name in list(self._prepared):
            self._drop_prepared(name)
        for task in self._builds.values():
            task.cancel()
        for t in self.templates.values():
            t.close()
        await asyncio.gather(*(asyncio.to_thread(t.reap) for t in self.templates.values()))
        if self.reaper.running:  # (never started where warm restarts are not possible)
            self.reaper.stop()
            with contextlib.suppress(Exception):
                self.reaper.sweep()


def _describe(code: int | None) -> str:
    if code is None:
        return "unknown status"
    return f"signal {-code}" if code < 0 else f"code {code}"


async def _word_from(fd: int, timeout: float) -> str | None:
    """What a prepared process said on its `ready` pipe: None for "prepared cleanly", else why
    not (it failed, printed, or did not answer within `timeout`)."""
    loop = asyncio.get_running_loop()
    got: asyncio.Future[bytes] = loop.create_future()

    def readable() -> None:
        loop.remove_reader(fd)
        try:
            data = os.read(fd, 512)
        except OSError:
            data = b""
        if not got.done():
            got.set_result(data)

    loop.add_reader(fd, readable)
    try:
        word = await asyncio.wait_for(got, timeout)
    except TimeoutError:
        loop.remove_reader(fd)
        return f"it did not finish importing ahead within {timeout:g}s"
    if word == b"1":
        return None
    return word[1:].decode(errors="replace") or "it exited while importing ahead"
