"""Find a config and read it into raw data: TOML, pyproject's [tool.autogpt-dev], or a Procfile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .errors import ConfigError

CONFIG_NAME = "autogpt-dev.toml"
PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_.-]+)\s*:\s*(.*)$")
PROCFILE_BASE_PORT = 5000  # foreman's default; each process type gets base + 100 * index
RELEASE = "release"


def find(path: Path | None) -> tuple[Path, str]:
    """The config to use (given, else discovered) and its text; ConfigError if there is none."""
    if path is None:
        path = discover()
        if path is None:
            raise ConfigError(
                [
                    f"no {CONFIG_NAME}, [tool.autogpt-dev] in pyproject.toml, or Procfile found "
                    f"in {Path.cwd()} or its parents (`autogpt-dev init` writes one; -c PATH)"
                ]
            )
    path = path.resolve()
    if not path.is_file():
        raise ConfigError([f"{path}: no such config file"])
    return path, read_text(path)


def discover(start: Path | None = None) -> Path | None:
    """`autogpt-dev.toml` here or in a parent, else pyproject.toml with our table, else Procfile."""
    here = (start or Path.cwd()).resolve()
    dirs = [here, *here.parents]
    for d in dirs:
        if (d / CONFIG_NAME).is_file():
            return d / CONFIG_NAME
    import tomllib

    for d in dirs:
        pp = d / "pyproject.toml"
        if pp.is_file():
            try:
                text = pp.read_text()
                if "autogpt-dev" in text and "autogpt-dev" in tomllib.loads(text).get("tool", {}):
                    return pp
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
                continue
    if (here / "Procfile").is_file():
        return here / "Procfile"
    return None


def parse_procfile(text: str, file: str) -> tuple[dict[str, Any], list[str]]:
    """(raw config data, warnings). As foreman does: PORT = 5000, 5100, ... in file order; the
    last line is the foreground. A `release` line is a one-shot that every other process waits
    for (condition completed). A repeated name is kept under a new name, with a warning."""
    services: dict[str, Any] = {}
    warnings: list[str] = []
    for lineno, raw in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = PROCFILE_LINE.match(line)
        if not m or not m.group(2).strip():
            raise ConfigError([f"{file}:{lineno}: expected 'name: command', got {raw!r}"])
        name, command = m.group(1), m.group(2).strip()
        if name in services:
            n = 2
            while f"{name}-{n}" in services:
                n += 1
            warnings.append(f"{file}:{lineno}: {name} is defined twice; this one is {name}-{n}")
            name = f"{name}-{n}"
        port = PROCFILE_BASE_PORT + 100 * len(services)
        services[name] = {"command": command, "shell": True, "env": {"PORT": str(port)}}
    release = services.get(RELEASE)
    if release is not None:
        release["restart"] = "no"
        release["foreground"] = False
        for other_name, other in services.items():
            if other_name != RELEASE:
                other["depends_on"] = {RELEASE: "completed"}
    runnable = [n for n in services if n != RELEASE]
    if runnable:
        services[runnable[-1]]["foreground"] = True
    return {"services": services}, warnings


def is_procfile(path: Path) -> bool:
    """Procfile, Procfile.dev, web.Procfile: foreman's names."""
    return "Procfile" in path.name and path.suffix not in (".toml", ".yml", ".yaml", ".json")


def read_raw(path: Path) -> tuple[dict[str, Any], list[str]]:
    """(raw data, warnings) of a config file; ConfigError if it cannot be read or parsed."""
    return parse_text(path, read_text(path))


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None


def parse_text(path: Path, text: str) -> tuple[dict[str, Any], list[str]]:
    """(raw data, warnings) of a config file's text; ConfigError if it cannot be parsed."""
    import tomllib  # here: a cached config is never parsed (see cache.py)

    if is_procfile(path):
        return parse_procfile(text, str(path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: invalid TOML: {e}"]) from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("autogpt-dev")
        if table is None:
            raise ConfigError([f"{path}: has no [tool.autogpt-dev] table"])
        return (table if isinstance(table, dict) else {}), []
    return data, []
