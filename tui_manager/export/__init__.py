"""Write the stack for the tools people deploy with: systemd, supervisord, compose, kubernetes.

Each writer returns the files it wrote and the warnings for what its format cannot express;
the warnings are also written as comments into the files.
"""

from __future__ import annotations

from pathlib import Path

from ..config.config import Config
from . import compose, kubernetes, supervisord, systemd
from .common import Export

FORMATS = {
    "systemd": systemd.write,
    "supervisord": supervisord.write,
    "compose": compose.write,
    "kubernetes": kubernetes.write,
}


def export(config: Config, fmt: str, out: Path) -> Export:
    out.mkdir(parents=True, exist_ok=True)
    return FORMATS[fmt](config, out)


__all__ = ["FORMATS", "Export", "export"]
