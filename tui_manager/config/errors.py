"""Every config problem is one clear line naming the file, the service and the key (stdlib only;
the translation of pydantic's errors into such lines is in validate.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence


class ConfigError(Exception):
    """One or more problems in a config; `str()` is one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def problem(file: str, where: str, message: str) -> str:
    line = f"{file}: {where}: {message}" if where else f"{file}: {message}"
    return line.replace("\r", "\\r").replace("\n", "\\n")  # one problem, one line: always


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(part: str | int) -> str:
    """A key as TOML would write it: bare when it can be, quoted (and escaped) otherwise."""
    text = str(part)
    return text if _BARE_KEY.match(text) else json.dumps(text)


def where(section: Sequence[str | int]) -> str:
    """('services', 'db', 'ready', 'http') -> '[services.db] ready.http'."""
    parts = [_key(p) for p in section]
    if len(parts) >= 2 and parts[0] == "services":
        head, rest = f"[services.{parts[1]}]", parts[2:]
    elif parts and parts[0] == "manager":
        head, rest = "[manager]", parts[1:]
    else:
        head, rest = "", parts
    key = ".".join(rest)
    return f"{head} {key}".strip() if key else head
