"""Find, read and validate a config: TOML, pyproject's [tool.autogpt-dev], or a Procfile."""

from __future__ import annotations

import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values, load_dotenv
from pydantic import ValidationError

from ..core import graph
from .errors import ConfigError, from_validation, problem, where
from .model import ConfigFile, Dependency, ManagerConfig, Probe, ServiceConfig

CONFIG_NAME = "autogpt-dev.toml"


@dataclass
class Config:
    """A validated config, with every path resolved against the config file's directory."""

    path: Path
    manager: ManagerConfig
    services: dict[str, ServiceConfig]
    foreground: str | None
    env_files_loaded: list[Path] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def state_dir(self) -> Path:
        return (self.root / self.manager.state_dir).resolve()

    def resolve(self, p: str) -> Path:
        return (self.root / p).resolve()

    def enabled(self) -> dict[str, ServiceConfig]:
        return {n: s for n, s in self.services.items() if s.enabled}

    def edges(self, names: set[str] | None = None) -> dict[str, set[str]]:
        pool = self.enabled() if names is None else {n: self.services[n] for n in names}
        return {n: set(s.dependencies()) & set(pool) for n, s in pool.items()}

    def dependency(self, service: str, dep: str) -> Dependency:
        return self.services[service].dependencies()[dep]

    def restart_policy(self, name: str) -> str:
        s = self.services[name]
        if s.restart is not None:
            return s.restart
        return "no" if name == self.foreground else "on-failure"

    def service_env(self, name: str) -> dict[str, str]:
        """The child's environment: ours < the service's env_file < its inline env."""
        s = self.services[name]
        env = dict(os.environ)
        if s.env_file:
            values = dotenv_values(self.resolve(s.env_file))
            env.update({k: v for k, v in values.items() if v is not None})
        env.update(s.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def argv(self, name: str) -> list[str]:
        s = self.services[name]
        if s.shell:
            cmd = s.command if isinstance(s.command, str) else shlex.join(s.command)
            return ["/bin/sh", "-c", cmd]
        return shlex.split(s.command) if isinstance(s.command, str) else list(s.command)


def discover(start: Path | None = None) -> Path | None:
    """`autogpt-dev.toml` here or in a parent, else pyproject.toml with our table, else Procfile."""
    here = (start or Path.cwd()).resolve()
    dirs = [here, *here.parents]
    for d in dirs:
        if (d / CONFIG_NAME).is_file():
            return d / CONFIG_NAME
    for d in dirs:
        pp = d / "pyproject.toml"
        if pp.is_file():
            try:
                data = tomllib.loads(pp.read_text())
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                continue
            if "autogpt-dev" in data.get("tool", {}):
                return pp
    if (here / "Procfile").is_file():
        return here / "Procfile"
    return None


def parse_procfile(text: str, file: str) -> dict[str, Any]:
    services: dict[str, Any] = {}
    last = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise ConfigError([f"{file}:{lineno}: expected 'name: command', got {raw!r}"])
        last = name.strip()
        services[last] = {"command": command.strip(), "shell": True}
    if last is not None:
        services[last]["foreground"] = True
    return {"services": services}


def read_raw(path: Path) -> dict[str, Any]:
    name = path.name
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    if name == "Procfile" or (path.suffix == "" and "Procfile" in name):
        return parse_procfile(text, str(path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: invalid TOML: {e}"]) from None
    if name == "pyproject.toml":
        table = data.get("tool", {}).get("autogpt-dev")
        if table is None:
            raise ConfigError([f"{path}: has no [tool.autogpt-dev] table"])
        return table if isinstance(table, dict) else {}
    return data


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate(
    data: Any, loc: tuple[str | int, ...] = ()
) -> tuple[Any, list[tuple[tuple[str | int, ...], str]]]:
    """Expand ${VAR} / ${VAR:-default} in every string; `$${` stays a literal `${`."""
    missing: list[tuple[tuple[str | int, ...], str]] = []
    if isinstance(data, str):

        def repl(m: re.Match[str]) -> str:
            value = os.environ.get(m.group(1))
            if value is None:
                if m.group(2) is None:
                    missing.append((loc, m.group(1)))
                    return ""
                return m.group(2)
            return value

        parts = data.split("$${")
        return "${".join(_VAR.sub(repl, p) for p in parts), missing
    if isinstance(data, dict):
        out = {}
        for k, v in data.items():
            out[k], m = interpolate(v, (*loc, k))
            missing += m
        return out, missing
    if isinstance(data, list):
        items = []
        for i, v in enumerate(data):
            item, m = interpolate(v, (*loc, i))
            items.append(item)
            missing += m
        return items, missing
    return data, missing


def _known_fields(path: tuple[str | int, ...]) -> list[str]:
    if len(path) <= 1:
        return list(ConfigFile.model_fields)
    if path[0] == "manager":
        return list(ManagerConfig.model_fields)
    if len(path) == 3:
        return list(ServiceConfig.model_fields)
    if len(path) == 4 and path[2] in ("ready", "health"):
        return list(Probe.model_fields)
    if len(path) >= 4 and path[2] == "depends_on":
        return list(Dependency.model_fields)
    return []


def load(path: Path | None = None, env_file: Path | None = None) -> Config:
    """Find (unless given), read, and validate a config; raise ConfigError listing every problem."""
    if path is None:
        path = discover()
        if path is None:
            raise ConfigError(
                [
                    f"no {CONFIG_NAME}, [tool.autogpt-dev] in pyproject.toml, or Procfile found "
                    f"in {Path.cwd()} or its parents (use -c PATH)"
                ]
            )
    path = path.resolve()
    if not path.is_file():
        raise ConfigError([f"{path}: no such config file"])
    return validate(read_raw(path), path, env_file)


def validate(data: dict[str, Any], path: Path, env_file: Path | None = None) -> Config:
    """Validate raw config data (from TOML, pyproject or a Procfile); ConfigError lists all."""
    file = str(path)
    problems: list[str] = []
    if not isinstance(data.get("manager", {}), dict):
        raise ConfigError([problem(file, "[manager]", "must be a table")])
    raw_manager = dict(data.get("manager", {}))

    # .env comes before anything else, so it can feed AUTOGPT_DEV_* overrides and ${VARS}.
    loaded: list[Path] = []
    dotenv = env_file or path.parent / str(raw_manager.get("env_file", ".env"))
    dotenv = dotenv if dotenv.is_absolute() else (path.parent / dotenv)
    if dotenv.is_file():
        load_dotenv(dotenv, override=False)
        loaded.append(dotenv)
    elif env_file is not None or "env_file" in raw_manager:
        problems.append(problem(file, "[manager] env_file", f"file not found: {dotenv}"))

    # ${VAR} and ${VAR:-default} in service values, as docker compose does, after .env.
    data, missing = interpolate(data)
    problems += [
        problem(
            file,
            where(loc),
            f"environment variable {var} is not set (use ${{" + var + ":-default})",
        )
        for loc, var in missing
    ]
    manager = ManagerConfig()
    try:
        manager = ManagerConfig(**raw_manager)
    except ValidationError as e:
        problems += from_validation(file, e, raw_manager, ("manager",), _known_fields)
    try:
        model = ConfigFile.model_validate(data)
    except ValidationError as e:
        problems += from_validation(file, e, data, (), _known_fields)
        raise ConfigError(problems) from None
    problems += _semantic_problems(file, path.parent, model)
    if problems:
        raise ConfigError(problems)
    return Config(path, manager, dict(model.services), _foreground(model), loaded)


def _foreground(model: ConfigFile) -> str | None:
    enabled = [n for n, s in model.services.items() if s.enabled]
    marked = [n for n in enabled if model.services[n].foreground]
    if marked:
        return marked[0]
    unmarked = [n for n in enabled if model.services[n].foreground is None]
    return unmarked[-1] if unmarked else None


def _semantic_problems(file: str, root: Path, model: ConfigFile) -> list[str]:
    out: list[str] = []
    services = model.services
    marked = [n for n, s in services.items() if s.foreground and s.enabled]
    if len(marked) > 1:
        out.append(problem(file, "foreground", f"only one service may be foreground: {marked}"))
    for name, s in services.items():
        if s.env_file and not (root / s.env_file).is_file():
            out.append(
                problem(
                    file,
                    where(("services", name, "env_file")),
                    f"file not found: {root / s.env_file}",
                )
            )
        if not (root / s.cwd).is_dir():
            out.append(
                problem(
                    file, where(("services", name, "cwd")), f"no such directory: {root / s.cwd}"
                )
            )
        if s.backoff > s.backoff_max:
            out.append(
                problem(
                    file,
                    where(("services", name, "backoff")),
                    f"{s.backoff} is larger than backoff_max ({s.backoff_max})",
                )
            )
    edges = {n: set(s.dependencies()) for n, s in services.items()}
    for err in graph.unknown_dependencies(edges):
        out.append(problem(file, where(("services", err.service, "depends_on")), err.message))
    for cycle in graph.find_cycles(edges):
        out.append(
            problem(
                file,
                where(("services", cycle[0], "depends_on")),
                "dependency cycle: " + " -> ".join(cycle),
            )
        )
    return out
