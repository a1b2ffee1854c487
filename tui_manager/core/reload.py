"""Dev mode: one watcher for the whole stack; a change restarts only the services that run it.

Watch sets: for a Python service, the project files its entry module imports (transitively,
see imports.py), plus its env_file and the project's .env. `watch = [globs]` in the config
replaces that default; put "@imports" among the globs to extend it instead. The config file
itself is re-read on change and the difference applied; an invalid edit is reported and the
running stack kept as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import inspect
import time
from pathlib import Path

import pathspec
from watchfiles import DefaultFilter, awatch

from ..config.errors import ConfigError
from ..config.load import load
from .events import Lifecycle, LogLines
from .imports import ImportGraph, entry_points
from .supervisor import Supervisor

IMPORTS_TOKEN = "@imports"
EDITOR_TEMP = ("*.swp", "*.swx", "*.swo", "*~", ".#*", "#*#", "4913", "*.tmp", "*.bak")


class Reloader:
    def __init__(self, sup: Supervisor, debounce_ms: int = 300, step_ms: int = 50) -> None:
        self.sup = sup
        self.root = sup.config.root
        self.debounce_ms, self.step_ms = debounce_ms, step_ms
        self.watch_sets: dict[str, set[Path]] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._restarts: dict[str, asyncio.Task[None]] = {}

    def compute(self, name: str) -> set[Path]:
        """The files whose change restarts `name` (globs are matched separately)."""
        cfg = self.sup.config
        svc = self.sup.services[name]
        files: set[Path] = set()
        explicit = svc.spec.watch
        if explicit is None or IMPORTS_TOKEN in explicit:
            cwd = cfg.resolve(svc.spec.cwd)
            graph = ImportGraph(self.root, [cwd, self.root])
            if svc.target is not None:  # an AppProcess: the module its class lives in
                with contextlib.suppress(TypeError, OSError):
                    source = inspect.getfile(type(svc.target.process))
                    files |= graph.closure([Path(source).resolve()], [])
            else:
                scripts, modules = entry_points(cfg.argv(name), cwd)
                files |= graph.closure(scripts, modules)
            if files or svc.target is not None:
                files.add((self.root / cfg.manager.env_file).resolve())
            files.update(path for path, _ in cfg.env_files(name))
        for pattern in explicit or []:
            if pattern != IMPORTS_TOKEN and not any(c in pattern for c in "*?["):
                files.add(cfg.resolve(pattern))
        return files

    def affected(self, changed: set[Path]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for name in self.sup.services:
            globs = [
                g for g in self.sup.services[name].spec.watch or () if any(c in g for c in "*?[")
            ]
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

    async def start(self) -> None:
        for name in self.sup.services:
            self.watch_sets[name] = self.compute(name)
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        self._stop.set()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for t in self._restarts.values():
            t.cancel()

    def _filter(self) -> DefaultFilter:
        state_dir = self.sup.config.state_dir
        default = DefaultFilter(ignore_paths=[str(state_dir)])
        gitignore = self.root / ".gitignore"
        ignored = (
            pathspec.GitIgnoreSpec.from_lines(gitignore.read_text().splitlines())
            if gitignore.is_file()
            else None
        )

        def accept(change: object, path: str) -> bool:
            name = Path(path).name
            if any(fnmatch.fnmatch(name, p) for p in EDITOR_TEMP) or name.endswith(".pyc"):
                return False
            rel = (
                Path(path).relative_to(self.root) if Path(path).is_relative_to(self.root) else None
            )
            if ignored is not None and rel is not None and ignored.match_file(rel.as_posix()):
                return False
            return bool(default(change, path))  # type: ignore[arg-type]

        return accept  # type: ignore[return-value]

    async def _watch(self) -> None:
        watched = set().union(*self.watch_sets.values()) if self.watch_sets else set()
        self.sup.bus.publish(
            Lifecycle(None, "watching", None, {"files": len(watched), "root": str(self.root)})
        )
        async for changes in awatch(
            self.root,
            watch_filter=self._filter(),
            debounce=self.debounce_ms,
            step=self.step_ms,
            stop_event=self._stop,
            yield_on_timeout=False,
        ):
            changed = {Path(p).resolve() for _, p in changes}
            if self.sup.shutting_down:
                return
            if self.sup.config.path in changed:
                await self._reload_config()
            for name, files in self.affected(changed).items():
                self._restart(name, files)

    def _restart(self, name: str, files: list[str]) -> None:
        # A newer change supersedes a restart still in flight instead of queueing behind it.
        old = self._restarts.pop(name, None)
        if old and not old.done():
            old.cancel()

        async def go() -> None:
            self.sup.bus.publish(
                Lifecycle(name, "reload", None, {"files": files, "at": time.time()})
            )
            await self.sup.restart_service(name, "reload")
            self.watch_sets[name] = self.compute(name)  # a new import is picked up

        self._restarts[name] = asyncio.get_running_loop().create_task(go())

    async def _reload_config(self) -> None:
        try:
            new = load(self.sup.config.path)
        except ConfigError as e:
            lines = [f"config not applied, the stack keeps running: {p}" for p in e.problems]
            self.sup.bus.publish(LogLines.text("system", "system", lines))
            return
        added, changed, removed = await self.sup.apply_config(new)
        for name in removed:
            self.watch_sets.pop(name, None)
        for name in added:
            self.watch_sets[name] = self.compute(name)
        for name in changed:
            self._restart(name, ["config"])
