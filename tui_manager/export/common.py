"""What every exporter shares: the result type, command resolution, probe targets, YAML."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config.config import Config
from ..config.spec import ProbeSpec as Probe


@dataclass
class Export:
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def absolute_argv(config: Config, name: str) -> list[str]:
    """argv with the program resolved on PATH (systemd wants absolute paths)."""
    argv = config.argv(name)
    found = shutil.which(argv[0], path=None) if not argv[0].startswith("/") else argv[0]
    return [found or argv[0], *argv[1:]]


def probe_target(probe: Probe) -> tuple[str, str, int, str]:
    """(kind, host, port, path) for http/tcp probes; port 0 for others."""
    if probe.http is not None:
        parts = urlsplit(probe.http)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return "http", parts.hostname or "127.0.0.1", port, parts.path or "/"
    if probe.tcp is not None:
        host, _, port_text = probe.tcp.rpartition(":")
        return "tcp", host, int(port_text), ""
    return probe.kind, "", 0, ""


def yaml(value: Any, indent: int = 0) -> str:
    """A small YAML writer (block style; every string double-quoted, which YAML reads as-is)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return "{}"
        lines = []
        for k, v in value.items():
            if isinstance(v, dict | list) and v:
                lines.append(f"{pad}{json.dumps(str(k))}:\n{yaml(v, indent + 1)}")
            else:
                lines.append(f"{pad}{json.dumps(str(k))}: {yaml(v)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return "[]"
        lines = []
        for v in value:
            if isinstance(v, dict) and v:
                body = yaml(v, indent + 1).lstrip()
                lines.append(f"{pad}- {body}")
            else:
                lines.append(f"{pad}- {yaml(v)}")
        return "\n".join(lines)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(str(value))


def comment_block(warnings: list[str], prefix: str = "# ") -> str:
    return "".join(f"{prefix}WARNING: {w}\n" for w in warnings)
