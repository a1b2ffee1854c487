"""Write autogpt-dev.toml text: tables with comments, values as TOML (for `init`)."""

from __future__ import annotations

import json
import re
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k)


def value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{key(k)} = {value(x)}" for k, x in v.items()) + " }"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def comment(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.splitlines()]


def table(name: str, body: dict[str, Any], comments: list[str] | None = None) -> list[str]:
    lines = [*(comments or []), f"[{name}]"]
    lines += [f"{key(k)} = {value(v)}" for k, v in body.items()]
    return [*lines, ""]
