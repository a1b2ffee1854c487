"""Dev mode: one watcher for the whole stack; a change restarts only the services that run it.

Watch sets: for a Python service, the project files its entry module imports (transitively,
see imports.py). `watch = [globs]` replaces that default; put "@imports" among them to extend
it. The files a service's environment comes from (the project's .env, its env_file) are watched
whatever .gitignore says, and an edit restarts exactly the services whose environment it
changes. The config file is re-read on change and the difference applied; an invalid edit is
reported and the running stack kept as it is.

One burst, one restart: every batch of changes re-arms a short quiet timer, and when it fires
the whole burst is acted on at once. A change that does not change a file's meaning (fingerprint
.py) restarts nothing, so a formatter rewriting the file right after the save costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import glob
import inspect
import time
from pathlib import Path

import pathspec
from watchfiles import DefaultFilter, awatch

from ..config.errors import ConfigError
from ..config.loader import load
from .config_apply import apply_config
from .environment import child_env
from .events import Lifecycle, LogLines
from .fingerprint import Seen, fingerprint
from .imports import ImportGraph, entry_points
from .states import State
from .supervisor import Supervisor
from .warm.entry import want_of
from .warm.templates import packaging_file

IMPORTS_TOKEN = "@imports"
EDITOR_TEMP = (
    *("*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "4913", "*.tmp", "*.bak", "*.orig"),
    *("*___jb_tmp___", "*___jb_old___", ".~lock.*", "*.crswap", ".goutputstream-*"),
)
QUIET = 0.010  # seconds without new changes that end a burst (after the watcher's own step)
ARMED_TIMEOUT = 10.0
SENTINEL = ".watch-armed"


def drop_bytecode(paths: set[Path]) -> None:
    """Python trusts a module's .pyc while its recorded source mtime (whole seconds) and size
    still match. An edit of the same size (a digit, a fixed typo) in the second the previous
    start compiled it would start the new process on the old code, and a warm restart compiles
    within that second. So each edited module's bytecode goes first, for every interpreter (a
    project may run another Python than ours); a comment-only edit's too, for the line numbers
    of later tracebacks."""
    for path in paths:
        if path.suffix == ".py":
            for pyc in (path.parent / "__pycache__").glob(f"{glob.escape(path.stem)}.*.pyc"):
                with contextlib.suppress(OSError):
                    pyc.unlink()


class Reloader:
    def __init__(self, sup: Supervisor, debounce_ms: int = 300, step_ms: int = 10) -> None:
        self.sup = sup
        self.root = sup.config.root
        self.debounce_ms, self.step_ms = debounce_ms, step_ms
        self.watch_sets: dict[str, set[Path]] = {}
        self._stop = asyncio.Event()
        self._armed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._pending: set[Path] = set()
        self._restarts: dict[str, asyncio.Task[None]] = {}
        self._seen = Seen()
        self._sentinel = sup.config.state_dir / SENTINEL

    # ---- what is watched -----------------------------------------------------------------------
    def compute(self, name: str) -> set[Path]:
        """The files whose change restarts `name` (globs are matched separately)."""
        cfg = self.sup.config
        svc = self.sup.services[name]
        files: set[Path] = set()
        closure: set[Path] = set()
        explicit = svc.spec.watch
        cwd = cfg.resolve(svc.spec.cwd)
        graph = ImportGraph(self.root, [cwd, self.root])
        scripts: list[Path] = []
        modules: list[str] = []
        if svc.target is not None:  # an AppProcess: the module its class lives in
            with contextlib.suppress(TypeError, OSError):
                cls = type(svc.target.process)
                scripts = [Path(inspect.getfile(cls)).resolve()]
                if cls.__module__ != "__main__":
                    modules = [cls.__module__]
            closure = graph.closure(scripts, [])
        else:
            scripts, modules = entry_points(cfg.argv(name), cwd)
            closure = graph.closure(scripts, modules)
        if explicit is None or IMPORTS_TOKEN in explicit:
            files |= closure
        self._want_template(name, graph, scripts, modules)
        for pattern in explicit or []:
            if pattern != IMPORTS_TOKEN and not any(c in pattern for c in "*?["):
                files.add(cfg.resolve(pattern))
        self._seen.learn(graph.fingerprints)
        self._seen.learn({f: fingerprint(f) for f in files - graph.fingerprints.keys()})
        return files

    def _want_template(
        self, name: str, graph: ImportGraph, scripts: list[Path], modules: list[str]
    ) -> None:
        """What the warm template of `name` imports, and what a restart may run ahead."""
        warm = self.sup.warm
        if warm is None:
            return
        plan = warm.plan(name)
        if isinstance(plan, str):
            return
        app_process = self.sup.services[name].target is not None
        argv = [] if app_process else self.sup.config.argv(name)
        warm.want(name, want_of(graph, plan, scripts, modules, argv, app_process))

    def env_files(self) -> set[Path]:
        """Every file a service's environment comes from: watched whatever .gitignore says."""
        cfg = self.sup.config
        files = {path for name in self.sup.services for path, _ in cfg.env_files(name)}
        if cfg.dotenv is not None:
            files.add(cfg.dotenv.resolve())
        return {f.resolve() for f in files}

    def affected(self, changed: set[Path]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name, svc in self.sup.services.items():
            globs = [g for g in svc.spec.watch or () if any(c in g for c in "*?[")]
            hits = []
            for path in changed:
                rel = (
                    path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else ""
                )
                if path in self.watch_sets.get(name, ()) or any(
                    fnmatch.fnmatch(rel, g) for g in globs
                ):
                    hits.append(rel or str(path))
            if hits:
                out[name] = sorted(hits)
        return out

    # ---- running -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start watching; returns once the watcher is armed (and says so: `watching`)."""
        for name in self.sup.services:
            self.watch_sets[name] = self.compute(name)
        self._sentinel.parent.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.get_running_loop().create_task(self._watch())
        deadline = time.monotonic() + ARMED_TIMEOUT
        while not self._armed.is_set() and time.monotonic() < deadline:
            self._sentinel.write_text(str(time.time()))  # seen once the watcher is in place
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._armed.wait(), 0.05)
        watched = set().union(*self.watch_sets.values(), self.env_files())
        extra = {"files": len(watched), "root": str(self.root)}
        if not self._armed.is_set():
            extra["armed"] = False  # (a watcher that never reported: say so, do not pretend)
        self.sup.bus.publish(Lifecycle(None, "watching", None, extra))

    async def stop(self) -> None:
        self._stop.set()
        if self._timer:
            self._timer.cancel()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for t in self._restarts.values():
            t.cancel()
        with contextlib.suppress(OSError):
            self._sentinel.unlink()

    def _filter(self) -> DefaultFilter:
        state_dir = self.sup.config.state_dir
        default = DefaultFilter(ignore_paths=[str(state_dir)])
        gitignore = self.root / ".gitignore"
        ignored = (
            pathspec.GitIgnoreSpec.from_lines(gitignore.read_text().splitlines())
            if gitignore.is_file()
            else None
        )
        sentinel = str(self._sentinel)

        def accept(change: object, path: str) -> bool:
            if path == sentinel:
                return True
            p = Path(path)
            if any(fnmatch.fnmatch(p.name, pat) for pat in EDITOR_TEMP) or p.suffix == ".pyc":
                return False
            if p.resolve() in self.env_files():  # .env is in .gitignore almost everywhere
                return True
            rel = p.relative_to(self.root) if p.is_relative_to(self.root) else None
            if ignored is not None and rel is not None and ignored.match_file(rel.as_posix()):
                return False
            return bool(default(change, path))  # type: ignore[arg-type]

        return accept  # type: ignore[return-value]

    async def _watch(self) -> None:
        paths = [self.root]
        if not self._sentinel.is_relative_to(self.root):
            paths.append(self._sentinel.parent)
        async for changes in awatch(
            *paths,
            watch_filter=self._filter(),
            debounce=self.debounce_ms,
            step=self.step_ms,
            stop_event=self._stop,
            yield_on_timeout=False,
        ):
            batch = {Path(p).resolve() for _, p in changes}
            if self._sentinel.resolve() in batch:
                self._armed.set()
                batch.discard(self._sentinel.resolve())
            if not batch or self.sup.shutting_down:
                continue
            self._pending |= batch  # the burst grows; it is acted on once it is quiet
            if self._timer:
                self._timer.cancel()
            self._timer = asyncio.get_running_loop().call_later(QUIET, self._burst_over)

    def _burst_over(self) -> None:
        changed, self._pending = self._pending, set()
        self.sup.spawn_task(self._act(changed))

    async def _act(self, changed: set[Path]) -> None:
        if self.sup.shutting_down:
            return
        restart: dict[str, list[str]] = {}
        env_files = self.env_files()
        touched_env = changed & env_files
        if self.sup.config.path in changed or (self.sup.config.dotenv in touched_env):
            for name in await self._reload_config():
                restart.setdefault(name, []).append(self.sup.config.path.name)
        if touched_env:
            names = ", ".join(sorted(p.name for p in touched_env))
            for name, svc in self.sup.services.items():
                if svc.base_env is not None and child_env(self.sup.config, name) != svc.base_env:
                    restart.setdefault(name, []).append(names)
        drop_bytecode(changed)
        code = {p for p in changed - env_files - {self.sup.config.path} if self._seen.changed(p)}
        packaging = sorted(p.name for p in code if packaging_file(p))
        if packaging and self.sup.warm is not None:
            self.sup.warm.invalidate(f"{', '.join(packaging)} changed")
        for name, files in self.affected(code).items():
            restart.setdefault(name, []).extend(files)
        written = last_write(changed)
        for name, files in restart.items():
            target = self.sup.services.get(name)
            if target is not None and target.state != State.STOPPED:  # a user's stop stands
                self._restart(name, sorted(set(files)), written)

    def _restart(self, name: str, files: list[str], written: float) -> None:
        # A newer burst supersedes a restart still in flight instead of queueing behind it.
        old = self._restarts.pop(name, None)
        if old and not old.done():
            old.cancel()

        async def go() -> None:
            warm = self.sup.warm
            svc = self.sup.services.get(name)
            running = svc is not None and svc.child is not None and svc.child.running
            steered = running and self.sup.sockets.steer(name)  # the new process's sockets
            # The new code is imported while the old process stops (warm.py).
            token = warm.prepare(name) if warm else None
            if steered:
                await self.sup.sockets.drained(name)  # (the restart's handover is done then)
            try:
                await self.sup.restart_service(name, "reload")
                svc = self.sup.services.get(name)
                row = await self.sup.wait_settled(name, svc.spec.ready_timeout if svc else 30)
            finally:
                if warm is not None:
                    warm.unprepare(name, token)
            kind, why = warm.outcome.get(name, ("cold", None)) if warm else ("cold", None)
            extra: dict[str, object] = {"files": files, "kind": kind, "at": time.time()}
            if why:
                extra["why"] = why
            if row.ready_at is not None and row.state in ("ready", "unhealthy"):
                extra["seconds"] = round(max(0.0, row.ready_at - written), 3)  # write to ready
            else:
                extra["outcome"] = row.state
            self.sup.bus.publish(Lifecycle(name, "reload", row.pid, extra))
            self.watch_sets[name] = self.compute(name)  # a new import is picked up

        self._restarts[name] = asyncio.get_running_loop().create_task(go())

    async def _reload_config(self) -> list[str]:
        """Apply an edited config (or .env, which it interpolates); the names to restart."""
        try:
            new = load(self.sup.config.path)
        except ConfigError as e:
            lines = [f"config not applied, the stack keeps running: {p}" for p in e.problems]
            self.sup.bus.publish(LogLines.text("system", "system", lines))
            return []
        added, changed, removed = await apply_config(self.sup, new)
        for name in removed:
            self.watch_sets.pop(name, None)
        for name in added:
            self.watch_sets[name] = self.compute(name)
        return changed


def last_write(paths: set[Path]) -> float:
    """When the burst was written: the newest modification time among its files (a deleted
    file: now). The `reload` event measures from here to the new process being ready. A file
    with an old date (copied with its times kept) counts as written just before we saw it."""
    now = time.time()
    times = []
    for p in paths:
        with contextlib.suppress(OSError):
            times.append(p.stat().st_mtime)
    return min(now, max(max(times), now - 1.0)) if times else now
