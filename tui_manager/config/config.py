"""A loaded config: the specs, with every path resolved against the config file's directory."""

from __future__ import annotations

import shlex
from pathlib import Path

from .spec import DependencySpec, ManagerSpec, ServiceSpec


class Config:
    def __init__(
        self,
        path: Path,
        manager: ManagerSpec,
        services: dict[str, ServiceSpec],
        foreground: str | None,
        keys: dict[str, str] | None = None,
        dotenv: Path | None = None,  # the manager's .env (children read it at each spawn)
        warnings: list[str] | None = None,
    ) -> None:
        self.path = path
        self.manager = manager
        self.services = services
        self.foreground = foreground
        self.keys = keys or {}
        self.dotenv = dotenv
        self.warnings = warnings or []

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def state_dir(self) -> Path:
        return (self.root / self.manager.state_dir).resolve()

    def resolve(self, p: str) -> Path:
        return (self.root / p).resolve()

    def enabled(self) -> dict[str, ServiceSpec]:
        return {n: s for n, s in self.services.items() if s.enabled}

    def edges(self, names: set[str] | None = None) -> dict[str, set[str]]:
        pool = self.enabled() if names is None else {n: self.services[n] for n in names}
        return {n: set(s.dependencies()) & set(pool) for n, s in pool.items()}

    def dependency(self, service: str, dep: str) -> DependencySpec:
        return self.services[service].dependencies()[dep]

    def restart_policy(self, name: str) -> str:
        s = self.services[name]
        if s.restart is not None:
            return s.restart
        return "no" if name == self.foreground else "on-failure"

    def env_files(self, name: str) -> list[tuple[Path, bool]]:
        """(path, required) of the service's env files, in the order they apply."""
        return [(self.resolve(f.path), f.required) for f in self.services[name].env_file]

    def argv(self, name: str) -> list[str]:
        s = self.services[name]
        if s.command is None:
            raise ValueError(f"{name} has no command (it is disabled)")
        if s.shell:
            cmd = s.command if isinstance(s.command, str) else shlex.join(s.command)
            return ["/bin/sh", "-c", cmd]
        return shlex.split(s.command) if isinstance(s.command, str) else list(s.command)
