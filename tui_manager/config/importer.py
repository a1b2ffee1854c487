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
from .compose_file import load_project
from .compose_map import Context, Mapper
from .compose_text import Mapped
from .loader import read_dotenv
from .model import RESERVED_NAMES
from .read import RELEASE, is_procfile, parse_procfile
from .venv import find_venv, with_venv


@dataclass
class Imported:
    text: str
    foreground: str | None = None
    why: str = ""
    notes: list[str] = field(default_factory=list)


def init(source: Path, output: Path, profiles: list[str] | None = None) -> Imported:
    if is_procfile(source):
        return from_procfile(source, output)
    return from_compose(source, output, profiles or [])


def _header(source: Path, notes: list[str]) -> list[str]:
    lines = [
        f"# Written by `autogpt-dev init` from {source.name}. Reference: docs/configuration.md;",
        "# what each key of the source became: docs/coming-from.md.",
    ]
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
    lookup = {**(read_dotenv(dotenv) if dotenv.is_file() else {}), **os.environ}
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
    disabled = {m.name for m in mapped if not m.enabled}
    for m in mapped:
        for dep in m.table.get("depends_on", {}) if m.enabled else ():
            if dep in disabled:
                m.notes.append(f"{m.name}: depends on {dep}, which is disabled: treated as met")
    notes = [n for m in mapped for n in m.notes]
    _rename_reserved(mapped, notes)
    fg, why = choose_foreground(mapped)
    manager: dict[str, Any] = {}
    if project.name:
        manager["name"] = project.name
    if dotenv.is_file() and dotenv != out_dir / ".env":
        manager["env_file"] = os.path.relpath(dotenv, out_dir)
    lines = _header(source, notes)
    if manager:
        lines += toml_out.table("manager", manager)
    for m in mapped:
        comments = [*m.comments]
        if m.name == fg:
            m.table["foreground"] = True
            comments.append(f"# the foreground: {why}")
        lines += toml_out.table(f"services.{toml_out.key(m.name)}", m.table, comments)
    return Imported("\n".join(lines), fg, why, notes)


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
