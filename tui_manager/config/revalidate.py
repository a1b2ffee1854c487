"""An edit that only changes plain values of existing keys (a command, an env value, a flag)
re-validated without pydantic: the previous result with those values replaced, where the new
value is exactly of the field's type. Anything else (a new key, a probe, a number, another
type) goes through the models as always. So `up` right after such an edit costs no schema
imports, and the result is what the models would give: for these fields `model_dump` returns
the value as written.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


def _text(v: Any) -> bool:
    return type(v) is str


def _flag(v: Any) -> bool:
    return type(v) is bool


def _words(v: Any) -> bool:
    return type(v) is list and all(type(x) is str for x in v)


def _command(v: Any) -> bool:  # the models refuse an empty one
    return (_text(v) and bool(v.strip())) or (_words(v) and bool(v))


def _env(v: Any) -> bool:
    return type(v) is dict and all(type(k) is str and type(x) is str for k, x in v.items())


# ServiceConfig fields whose validated value is the value written, when it has this type.
PLAIN: dict[str, Callable[[Any], bool]] = {
    "command": _command,
    "env": _env,
    "cwd": _text,
    "shell": _flag,
    "tty": _flag,
    "enabled": _flag,
    "warm": _flag,
    "foreground": _flag,
    "watch": _words,
}


def revalidated(
    old_data: Any, old_value: dict[str, Any], new_data: dict[str, Any]
) -> dict[str, Any] | None:
    """The validated value of `new_data`, from `old_value` (that of `old_data`), or None."""
    if not isinstance(old_data, dict) or old_data.keys() != new_data.keys():
        return None
    if any(old_data[k] != new_data[k] for k in new_data if k != "services"):
        return None  # the manager table, keys: as validated before, or the models decide
    old_services, new_services = old_data.get("services"), new_data.get("services")
    if not isinstance(old_services, dict) or not isinstance(new_services, dict):
        return None
    if list(old_services) != list(new_services):
        return None
    value = copy.deepcopy(old_value)
    for name, new in new_services.items():
        old = old_services[name]
        if not isinstance(new, dict) or not isinstance(old, dict) or old.keys() != new.keys():
            return None
        for key, v in new.items():
            if old[key] == v:
                continue
            check = PLAIN.get(key)
            if check is None or not check(v):
                return None
            value["services"][name][key] = copy.deepcopy(v)
    return value
