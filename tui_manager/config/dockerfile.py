"""What a `build:` service runs: ENTRYPOINT, CMD and WORKDIR of its Dockerfile (the stage it
builds: `target`, else the last), so `init` can run the project's own code as a process."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)\s+(.*)$", re.DOTALL)


@dataclass
class Image:
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    workdir: str | None = None


def _argv(text: str) -> list[str]:
    """Exec form (a JSON array) or shell form (run by /bin/sh -c)."""
    text = text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
            if isinstance(value, list) and all(isinstance(x, str) for x in value):
                return value
        except ValueError:
            pass
    return ["/bin/sh", "-c", text]


def _lines(text: str) -> list[str]:
    out: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        out.append(current + line)
        current = ""
    if current:
        out.append(current)
    return out


def read(path: Path, target: str | None = None) -> Image | None:
    """The image a Dockerfile builds, as far as running it goes; None if it is not there."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    stages: list[tuple[str | None, Image]] = []
    for line in _lines(text):
        m = _INSTRUCTION.match(line)
        if not m:
            continue
        word, rest = m.group(1).upper(), m.group(2).strip()
        if word == "FROM":
            parts = shlex.split(rest)
            alias = parts[parts.index("AS") + 1] if "AS" in [p.upper() for p in parts] else None
            if alias is None and len(parts) >= 3 and parts[-2].lower() == "as":
                alias = parts[-1]
            stages.append((alias, Image()))
        elif not stages:
            continue
        elif word == "ENTRYPOINT":
            stages[-1][1].entrypoint = _argv(rest)
            stages[-1][1].cmd = None  # a new ENTRYPOINT resets an inherited CMD
        elif word == "CMD":
            stages[-1][1].cmd = _argv(rest)
        elif word == "WORKDIR":
            wd = rest.strip().strip('"')
            prev = stages[-1][1].workdir
            stages[-1][1].workdir = wd if wd.startswith("/") or not prev else f"{prev}/{wd}"
    if not stages:
        return None
    if target:
        for alias, image in stages:
            if alias == target:
                return image
    return stages[-1][1]
