"""Load a config: read, `.env`, interpolate, validate (cached), build the specs, check the disk.

Nothing here changes `os.environ`: the `.env` values feed interpolation and the manager
overrides, and children read the file again at each spawn (so an edit reaches the next restart).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..base import graph
from . import cache
from .config import Config
from .errors import ConfigError, problem, where
from .interpolate import InterpolationError, evaluate, parse
from .read import find, parse_text
from .spec import ManagerSpec, ServiceSpec, listen_address

OVERRIDE_PREFIX = "AUTOGPT_DEV_"


def read_dotenv(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def load(path: Path | None = None, env_file: Path | None = None) -> Config:
    """Find (unless given), read, and validate a config; raise ConfigError listing every problem."""
    path, text = find(path)
    entry = cache.Entry(path)
    raw = entry.parsed(text) or parse_text(path, text)
    return validate(raw[0], path, env_file, raw[1], entry=entry, source=text)


def validate(
    data: dict[str, Any],
    path: Path,
    env_file: Path | None = None,
    warnings: list[str] | None = None,
    entry: cache.Entry | None = None,
    source: str | None = None,
) -> Config:
    """Validate raw config data (from TOML, pyproject or a Procfile); ConfigError lists all.
    `source`: the file's text the data was read from (for the cache)."""
    file = str(path)
    raw = (data, list(warnings or []))
    problems: list[str] = []
    if not isinstance(data.get("manager", {}), dict):
        raise ConfigError([problem(file, "[manager]", "must be a table")])

    # .env comes before anything else: it feeds ${VARS} and AUTOGPT_DEV_* overrides.
    raw_env_file = str(data.get("manager", {}).get("env_file", ".env"))
    dotenv = env_file or Path(raw_env_file)
    dotenv = dotenv if dotenv.is_absolute() else (path.parent / dotenv)
    dotenv_values: dict[str, str] = {}
    if dotenv.is_file():
        dotenv_values = read_dotenv(dotenv)
    elif env_file is not None or "env_file" in data.get("manager", {}):
        # Everything after it would only say that its variables are unset: this line alone.
        missing = f"file not found: {dotenv} ({create_hint(dotenv)})"
        raise ConfigError([problem(file, "[manager] env_file", missing)])
    lookup = {**dotenv_values, **os.environ}  # the real environment wins, as with docker compose

    data, interpolation_problems = interpolate_tree(file, data, lookup)
    problems += interpolation_problems
    overrides = {k: v for k, v in lookup.items() if k.upper().startswith(OVERRIDE_PREFIX)}
    entry = entry or cache.Entry(path)
    key = entry.key(data, overrides)
    normalized = entry.validated(key)
    if normalized is None:  # an edit of plain values needs no models (revalidate.py)
        normalized = entry.revalidated(key)
        if normalized is not None and not problems:
            entry.save(source, raw, key, normalized)
    if normalized is None:
        from .validate import validate_models  # pydantic: only when this content is new

        try:
            normalized = validate_models(file, data, dict(data.get("manager", {})), overrides)
        except ConfigError as e:
            raise ConfigError(problems + e.problems) from None
        if not problems:
            entry.save(source, raw, key, normalized)
    services = {n: ServiceSpec.from_dict(s) for n, s in normalized["services"].items()}
    problems += semantic_problems(file, path.parent, services)
    if problems:
        raise ConfigError(problems)
    return Config(
        path,
        ManagerSpec.from_dict(normalized["manager"]),
        services,
        foreground_of(services),
        dict(normalized.get("keys", {})),
        dotenv,
        list(warnings or []) + ready_warnings(file, services),
    )


def interpolate_tree(
    file: str, data: Any, lookup: dict[str, str], loc: tuple[str | int, ...] = ()
) -> tuple[Any, list[str]]:
    """Expand ${VAR} forms in every string value (keys are left alone)."""
    if isinstance(data, str):
        try:
            result = evaluate(parse(data), lookup.get)
        except InterpolationError as e:
            return data, [problem(file, where(loc), str(e))]
        out = [
            problem(
                file, where(loc), f"environment variable {v} is not set (use ${{{v}:-default}})"
            )
            for v in result.missing
        ]
        out += [problem(file, where(loc), f"environment variable {e}") for e in result.errors]
        return result.text, out
    if isinstance(data, dict):
        items, found = {}, []
        for k, v in data.items():
            items[k], p = interpolate_tree(file, v, lookup, (*loc, k))
            found += p
        return items, found
    if isinstance(data, list):
        seq, found = [], []
        for i, v in enumerate(data):
            item, p = interpolate_tree(file, v, lookup, (*loc, i))
            seq.append(item)
            found += p
        return seq, found
    return data, []


def foreground_of(services: dict[str, ServiceSpec]) -> str | None:
    enabled = [n for n, s in services.items() if s.enabled]
    marked = [n for n in enabled if services[n].foreground]
    if marked:
        return marked[0]
    unmarked = [n for n in enabled if services[n].foreground is None]
    return unmarked[-1] if unmarked else None


def semantic_problems(file: str, root: Path, services: dict[str, ServiceSpec]) -> list[str]:
    """What the schema cannot see: the disk, the graph, and rules across services."""
    out: list[str] = []
    marked = [n for n, s in services.items() if s.foreground and s.enabled]
    if len(marked) > 1:
        out.append(problem(file, "foreground", f"only one service may be foreground: {marked}"))
    for name, s in services.items():
        if s.command is None and s.enabled:
            out.append(
                problem(file, where(("services", name, "command")), "required key is missing")
            )
        for f in s.env_file:
            if f.required and not (root / f.path).is_file():
                out.append(
                    problem(
                        file,
                        where(("services", name, "env_file")),
                        f"file not found: {root / f.path} ({create_hint(root / f.path)})",
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
    owners: dict[tuple[str, int], str] = {}
    for name, s in services.items():
        for text in s.listen:
            other = owners.setdefault(listen_address(text), name)
            if other != name:
                why = f"{text!r} is also listed by {other}: one socket, one service"
                out.append(problem(file, where(("services", name, "listen")), why))
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


def ready_warnings(file: str, services: dict[str, ServiceSpec]) -> list[str]:
    """`condition = "ready"` on a service without a ready probe means "started": say so."""
    out = []
    for name, s in services.items():
        for dep, spec in s.dependencies().items():
            target = services.get(dep)
            explicit_ready = spec.condition == "ready" and spec.explicit
            if explicit_ready and target is not None and target.ready is None:
                out.append(
                    problem(
                        file,
                        where(("services", name, "depends_on", dep)),
                        f'condition "ready", but {dep} has no ready probe: it counts as ready '
                        'once spawned (add a ready probe, or say condition = "started")',
                    )
                )
    return out


def env_template(path: Path) -> Path | None:
    """The example a project keeps beside an env file its README says to create
    (.env.example; AutoGPT's .env.default)."""
    for suffix in (".example", ".sample", ".template", ".dist", ".default"):
        example = path.with_name(path.name + suffix)
        if example.is_file():
            return example
    return None


def create_hint(path: Path) -> str:
    """How to make a missing env file: from the example a project keeps beside it."""
    example = env_template(path)
    return f"cp {example.name} {path.name}" if example else f"create {path.name}"
