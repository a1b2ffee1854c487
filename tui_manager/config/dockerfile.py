"""What a `build:` service runs: ENTRYPOINT, CMD and WORKDIR of its Dockerfile (the stage it
builds: `target`, else the last, with what it inherits from an earlier stage it is FROM), and
where its COPY lines put the context, so `init` can run the project's own code as a process in
the folder the container runs it in."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)\s+(.*)$", re.DOTALL)


@dataclass
class Image:
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    workdir: str | None = None
    # COPY/ADD from the build context: (source relative to the context, absolute destination)
    copies: list[tuple[str, str]] = field(default_factory=list)

    def host_dir(self, container_dir: str, context: Path) -> Path | None:
        """The context's folder that a container folder was copied from (the longest COPY
        destination holding it), if one was."""
        best: tuple[int, Path] | None = None
        for src, dest in self.copies:
            if container_dir == dest or container_dir.startswith(dest.rstrip("/") + "/"):
                path = context / src / container_dir[len(dest) :].lstrip("/")
                if path.is_dir() and (best is None or len(dest) > best[0]):
                    best = (len(dest), path)
        return best[1] if best else None


def _copy(rest: str, workdir: str | None) -> list[tuple[str, str]]:
    """COPY [--chown=..] SRC... DEST (shell or JSON form); nothing for COPY --from=stage."""
    parts = _argv(rest) if rest.lstrip().startswith("[") else shlex.split(rest)
    if parts[:2] == ["/bin/sh", "-c"] or any(p.startswith("--from") for p in parts):
        return []
    parts = [p for p in parts if not p.startswith("--")]
    if len(parts) < 2:
        return []
    dest = posixpath.normpath(posixpath.join(workdir or "/", parts[-1]))
    # A folder's contents land in DEST (files too, but only folders are looked up).
    return [(posixpath.normpath(src.lstrip("/")), dest) for src in parts[:-1]]


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
            parts = [p for p in shlex.split(rest) if not p.startswith("--")]  # --platform=
            alias = parts[-1] if len(parts) >= 3 and parts[-2].lower() == "as" else None
            base = next((i for a, i in stages if parts and a == parts[0]), None)  # FROM a stage
            stages.append((alias, replace(base, copies=list(base.copies)) if base else Image()))
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
        elif word in ("COPY", "ADD"):
            stages[-1][1].copies += _copy(rest, stages[-1][1].workdir)
    if not stages:
        return None
    if target:
        for alias, image in stages:
            if alias == target:
                return image
    return stages[-1][1]
