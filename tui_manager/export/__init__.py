"""Write the stack for the tools people deploy with: systemd, supervisord, compose, kubernetes.

Each writer (one module per format, with a `write(config, out) -> Export`) returns the files it
wrote and the warnings for what its format cannot express; the warnings are also written as
comments into the files. A writer is imported only when its format is asked for.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config.config import Config
    from .common import Export

FORMATS = ("systemd", "supervisord", "compose", "kubernetes")


def export(config: Config, fmt: str, out: Path) -> Export:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
    out.mkdir(parents=True, exist_ok=True)
    writer = importlib.import_module(f"{__name__}.{fmt}")
    result: Export = writer.write(config, out)
    return result


__all__ = ["FORMATS", "export"]
