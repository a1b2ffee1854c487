"""A cache of parsed and validated configs, so a command that starts often (`up`, `status`)
neither parses TOML nor imports pydantic when the file has not changed.

One small JSON file per config path under $XDG_CACHE_HOME/autogpt-dev, holding:
- `source`: the file's text, and `raw`: what reading it gave (data, warnings). A text equal to
  `source` skips the TOML parser;
- `key`: everything validation depends on (our version, the schema's files, the interpolated
  data, the AUTOGPT_DEV_* overrides), and `value`: the validated result.
Keys are compared whole, not hashed (no hashlib to import, no collisions to reason about). The
checks that look at the disk (cwd, env files, the graph) run on every load. Any error is a miss.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import os
from pathlib import Path
from typing import Any

from .._version import __version__

_SCHEMA_SOURCES = ("model.py", "spec.py", "validate.py")


def _dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autogpt-dev"


def _file(config_path: Path) -> Path:
    raw = os.fsencode(config_path)
    return _dir() / f"{config_path.name}-{binascii.crc32(raw):08x}.json"


def _schema() -> list[int]:
    # A changed schema (a new default, a new key) must never read an entry made by the old one;
    # an edit to these files changes their size or modification time (an editable install).
    here = Path(__file__).parent
    out: list[int] = []
    for name in _SCHEMA_SOURCES:
        with contextlib.suppress(OSError):
            st = (here / name).stat()
            out += [st.st_size, st.st_mtime_ns]
    return out


class Entry:
    """The cache file of one config path (empty when there is none or it is unreadable)."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.data: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            entry = json.loads(_file(config_path).read_text())
            if isinstance(entry, dict) and entry.get("path") == str(config_path):
                self.data = entry

    def parsed(self, source: str) -> tuple[dict[str, Any], list[str]] | None:
        raw = self.data.get("raw")
        if self.data.get("source") != source or not isinstance(raw, list) or len(raw) != 2:
            return None
        return raw[0], raw[1]

    @staticmethod
    def key(data: Any, overrides: dict[str, str]) -> str:
        return json.dumps([__version__, _schema(), data, overrides], sort_keys=True, default=str)

    def validated(self, key: str) -> dict[str, Any] | None:
        value = self.data.get("value")
        return value if self.data.get("key") == key and isinstance(value, dict) else None

    def revalidated(self, key: str) -> dict[str, Any] | None:
        """After an edit of plain values only (revalidate.py): the new result, or None."""
        from .revalidate import revalidated

        value = self.data.get("value")
        with contextlib.suppress(ValueError, TypeError, KeyError, IndexError):
            old, new = json.loads(self.data["key"]), json.loads(key)
            # [version, schema, data, overrides]: the same but for the data
            if old[:2] == new[:2] and old[3] == new[3] and isinstance(value, dict):
                return revalidated(old[2], value, new[2])
        return None

    def save(
        self,
        source: str | None,
        raw: tuple[dict[str, Any], list[str]] | None,
        key: str,
        value: dict[str, Any],
    ) -> None:
        entry: dict[str, Any] = {"path": str(self.config_path), "key": key, "value": value}
        with contextlib.suppress(TypeError, ValueError):
            # Only what survives JSON unchanged (a TOML date would come back a string).
            if source is not None and raw is not None and json.loads(json.dumps(raw)) == list(raw):
                entry |= {"source": source, "raw": list(raw)}
        path = _file(self.config_path)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(entry))
            os.replace(tmp, path)
