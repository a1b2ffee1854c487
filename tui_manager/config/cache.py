"""A cache of validated configs, so pydantic is imported only when a config changed.

Validation is a pure function of the interpolated file content and the manager overrides, so the
key is a hash of exactly those (plus our version: a new schema never reads an old entry). The
checks that look at the disk (cwd, env files, the graph) run on every load, cached or not.
One small JSON file per config path under $XDG_CACHE_HOME/autogpt-dev; any error is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from .._version import __version__


def _dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autogpt-dev"


def key(data: Any, overrides: dict[str, str]) -> str:
    blob = json.dumps([__version__, data, overrides], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _file(config_path: Path) -> Path:
    return _dir() / (hashlib.sha1(os.fsencode(config_path)).hexdigest()[:20] + ".json")


def get(config_path: Path, k: str) -> dict[str, Any] | None:
    try:
        entry = json.loads(_file(config_path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != k:
        return None
    value = entry.get("value")
    return value if isinstance(value, dict) else None


def put(config_path: Path, k: str, value: dict[str, Any]) -> None:
    path = _file(config_path)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"key": k, "value": value}))
        os.replace(tmp, path)
