"""`autogpt-dev init`: an autogpt-dev.toml from a compose file or a Procfile. What it writes
always passes `check`; what cannot be carried over is a comment in the file and a note (one line
each); bad input is a ConfigError naming the file, the service and the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import toml_out
from .compose_file import COMPOSE_NAMES, load_project
from .compose_hosts import HostMap, Reachable, names_of
from .compose_map import Context, Mapper
from .compose_text import Mapped
from .loader import create_hint, env_template, read_dotenv
from .model import RESERVED_NAMES
from .read import RELEASE, is_procfile, parse_procfile
from .venv import find_venv, with_venv


@dataclass
class Imported:
    text: str
    foreground: str | None = None
    why: str = ""
    notes: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # what init recognised (reading a project)


def init(source: Path, output: Path, profiles: list[str] | None = None) -> Imported:
    if is_procfile(source):
        return from_procfile(source, output)
    return from_compose(source, output, profiles or [])


def _header(
    source: Path, notes: list[str], hosts: list[str] | None = None, docker: list[str] | None = None
) -> list[str]:
    lines = [
        f"# Written by `autogpt-dev init` from {source.name}. Reference: docs/configuration.md;",
        "# what each key of the source became: docs/coming-from.md.",
    ]
    if docker:
        lines += ["#", "# What stays in Docker, started first (it publishes the ports used here):"]
        named = "" if source.name in COMPOSE_NAMES else f" -f {source.name}"
        lines += [f"#   docker compose{named} up -d {' '.join(docker)}"]
    if hosts:
        lines += ["#", "# Container hostnames, as this machine reaches them:"]
        lines += [f"#   {h}" for h in hosts]
    if notes:
        lines += ["#", "# Not carried over as it was:", *(f"#   - {n}" for n in notes)]
    return [*lines, ""]


def from_procfile(source: Path, output: Path) -> Imported:
    data, notes = parse_procfile(source.read_text(encoding="utf-8-sig"), str(source))
    services: dict[str, dict[str, Any]] = data["services"]
    fg = next((n for n, s in services.items() if s.get("foreground")), None)
    lines = _header(source, notes)
    for name, body in services.items():
        comments = []
        if name == RELEASE:
            comments.append("# the release phase: runs once, before every other process starts")
        if name == fg:
            comments.append("# the foreground: the last process line, as with foreman")
        lines += toml_out.table(f"services.{toml_out.key(name)}", body, comments)
    why = "the last process line, as with foreman" if fg else ""
    return Imported("\n".join(lines), fg, why, notes)


def from_compose(source: Path, output: Path, profiles: list[str]) -> Imported:
    project = load_project(source.resolve())
    out_dir = output.resolve().parent
    dotenv = source.resolve().parent / ".env"
    # A fresh clone has no .env yet, only the example its README says to copy: its values
    # decide what init resolves now (published ports), and the config needs the real one.
    template = env_template(dotenv) if not dotenv.is_file() else None
    values = read_dotenv(dotenv) if dotenv.is_file() else read_dotenv(template) if template else {}
    lookup = {**values, **os.environ}
    active = set(profiles) | {p for p in lookup.get("COMPOSE_PROFILES", "").split(",") if p}
    env_path = with_venv(dict(os.environ), find_venv("auto", out_dir)[0]).get("PATH", "")
    ctx = Context(
        compose_path=source.resolve(),
        out_dir=out_dir,
        lookup=lookup,
        profiles=active,
        names=set(project.services),
        healthy={n for n, s in project.services.items() if _has_healthcheck(s.body)},
        path=env_path,
    )
    mapped = [Mapper(ctx, svc).map() for svc in project.services.values()]
    hosts = HostMap(
        [
            Reachable(m.name, names_of(m.name, svc.body), m.reach, m.how)
            for m, svc in zip(mapped, project.services.values(), strict=True)
        ]
    )
    for m in mapped:  # `redis://cache:6379/0` -> `redis://127.0.0.1:6399/0`
        hosts.rewrite_table(m.table, m.enabled)
    notes = [n for m in mapped for n in m.notes]
    needed = _left_to_docker(mapped, hosts.reached, notes)
    if template is not None:
        notes.insert(0, f".env does not exist yet: {create_hint(dotenv)} (init used its values)")
    watched = [svc.name for svc in project.services.values() if svc.body.get("develop")]
    if watched:
        notes.append(
            f"develop.watch ({', '.join(watched)}): `up --dev` restarts each service"
            " when the code it imports changes"
        )
    _rename_reserved(mapped, notes)
    fg, why = choose_foreground(mapped)
    manager: dict[str, Any] = {}
    if project.name:
        manager["name"] = project.name
    # Named when it is elsewhere, or still to be made (named, it is required: `check` says so).
    if template is not None or (dotenv.is_file() and dotenv != out_dir / ".env"):
        manager["env_file"] = os.path.relpath(dotenv, out_dir)
    lines = _header(source, notes, hosts.header(), needed)
    if manager:
        lines += toml_out.table("manager", manager)
    for m in mapped:
        comments = [*m.comments]
        if m.name == fg:
            m.table["foreground"] = True
            comments.append(f"# the foreground: {why}")
        lines += toml_out.table(f"services.{toml_out.key(m.name)}", m.table, comments)
    return Imported("\n".join(lines), fg, why, notes)


def _left_to_docker(mapped: list[Mapped], reached: set[str], notes: list[str]) -> list[str]:
    """The disabled services that what runs here needs (it depends on them or reaches them by
    name), in file order; a dependency on one is treated as met, one note for each."""
    enabled = [m for m in mapped if m.enabled]
    needed = []
    for d in (m for m in mapped if not m.enabled):
        waiting = [m.name for m in enabled if d.name in m.table.get("depends_on", {})]
        if waiting:
            notes.append(f"{d.name} is disabled: {', '.join(waiting)} start without waiting for it")
        if (waiting or d.name in reached) and d.how.startswith("in docker"):
            needed.append(d.name)
    return needed


def _has_healthcheck(body: dict[str, Any]) -> bool:
    hc = body.get("healthcheck")
    if not isinstance(hc, dict) or str(hc.get("disable", "")).lower() == "true":
        return False
    test = hc.get("test")
    return bool(test) and not (isinstance(test, list) and str(test[0]).upper() == "NONE")


def _rename_reserved(mapped: list[Mapped], notes: list[str]) -> None:
    """`system` and `all` name our own things: such a service gets a suffix, and every
    dependency on it follows."""
    renames = {m.name: f"{m.name}-service" for m in mapped if m.name in RESERVED_NAMES}
    for m in mapped:
        if m.name in renames:
            notes.append(f"{m.name}: a reserved name here: it is {renames[m.name]}")
            m.name = renames[m.name]
        deps = m.table.get("depends_on")
        if isinstance(deps, dict):
            m.table["depends_on"] = {renames.get(k, k): v for k, v in deps.items()}


def choose_foreground(mapped: list[Mapped]) -> tuple[str | None, str]:
    """Compose has no foreground. Ours is a service nothing depends on, preferring one people
    open (it publishes ports), then one that keeps running (a restart policy or a
    healthcheck); among equals, the last one declared."""
    enabled = [m for m in mapped if m.enabled]
    needed = {d for m in enabled for d in m.table.get("depends_on", {})}
    sinks = [m for m in enabled if m.name not in needed]
    for pick, why in (
        (lambda m: m.published, "nothing depends on it and it publishes ports"),
        (lambda m: m.long_running, "nothing depends on it and it keeps running"),
        (lambda m: True, "nothing depends on it"),
    ):
        found = [m for m in sinks if pick(m)]
        if found:
            return found[-1].name, why + (", the last such" if len(found) > 1 else "")
    if enabled:
        return enabled[-1].name, "the last enabled service"
    return None, ""
