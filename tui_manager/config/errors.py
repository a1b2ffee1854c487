"""Turn every config problem into one clear line naming the file, the service and the key."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError


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


def _path_in_data(loc: tuple[str | int, ...], data: Any, missing: bool) -> tuple[str | int, ...]:
    # pydantic adds union-branch tags (e.g. 'list[str]') to locations; keep only the parts that
    # really index into the user's data, so one wrong value gives one line at its real place.
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            path.append(part)
            node = node[part]
        elif missing and i == len(loc) - 1 and isinstance(node, dict) and isinstance(part, str):
            path.append(part)
    return tuple(path)


def _clean(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def from_validation(
    file: str, err: ValidationError, data: Any, prefix: tuple[str, ...] = (), known: Any = None
) -> list[str]:
    grouped: dict[tuple[str | int, ...], list[Any]] = {}
    for e in err.errors():
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            path = loc  # the unknown key itself is in the data
        else:
            path = _path_in_data(loc, data, e["type"] == "missing")
        grouped.setdefault(path, []).append(e)
    # A union reports each branch; where one branch reached deeper, that one is the real problem.
    deepest = [p for p in grouped if not any(q != p and q[: len(p)] == p for q in grouped)]
    lines = []
    for path in deepest:
        errs = grouped[path]
        full = (*prefix, *path)
        first = errs[0]
        if first["type"] == "extra_forbidden":
            msg = "unknown key"
            hint = _did_you_mean(str(path[-1]), known, path) if path else None
            if hint:
                msg += f" (did you mean {hint!r}?)"
        elif first["type"] == "missing":
            msg = "required key is missing"
        else:
            msgs = list(dict.fromkeys(_clean(e["msg"]) for e in errs))
            msg = msgs[0] if len(msgs) == 1 else " or ".join(m.lower() for m in msgs)
            value = first.get("input")
            if len(errs) > 1 and not isinstance(value, dict):
                msg = f"invalid value {value!r}: {msg}"
        lines.append(problem(file, where(full), msg))
    return lines


def _did_you_mean(key: str, known: Any, path: tuple[str | int, ...]) -> str | None:
    if known is None:
        return None
    fields = known(path)
    match = difflib.get_close_matches(key, fields, n=1)
    return match[0] if match else None
