"""The pydantic side of loading: validate raw data against the models and turn every
ValidationError into one line per problem. Imported only on a cache miss (see cache.py)."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

from .errors import ConfigError, problem, where
from .model import (
    ENV_PREFIX,
    ConfigFile,
    Dependency,
    EnvFile,
    ManagerConfig,
    Probe,
    ServiceConfig,
)


def validate_models(
    file: str, data: dict[str, Any], raw_manager: dict[str, Any], overrides: dict[str, str]
) -> dict[str, Any]:
    """Validated and normalised: {"manager": {...}, "services": {...}, "keys": {...}}.
    Raises ConfigError listing every problem. `overrides`: the AUTOGPT_DEV_* variables of the
    environment and `.env` (the environment's winning), case-insensitive as a shell user
    expects; other AUTOGPT_DEV_* names are not ours to judge."""
    problems: list[str] = []
    manager: dict[str, Any] = {}
    fields = ManagerConfig.model_fields
    from_env = {
        k[len(ENV_PREFIX) :].lower(): v
        for k, v in overrides.items()
        if k.upper().startswith(ENV_PREFIX) and k[len(ENV_PREFIX) :].lower() in fields
    }
    try:
        manager = ManagerConfig(**{**raw_manager, **from_env}).model_dump()  # file < variables
    except ValidationError as e:
        problems += from_validation(file, e, raw_manager, ("manager",), known_fields)
    try:
        model = ConfigFile.model_validate(data)
    except ValidationError as e:
        problems += from_validation(file, e, data, (), known_fields)
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return {
        "manager": manager,
        "services": {n: s.model_dump(exclude_unset=True) for n, s in model.services.items()},
        "keys": dict(model.keys),
    }


def known_fields(path: tuple[str | int, ...]) -> list[str]:
    if len(path) <= 1:
        return list(ConfigFile.model_fields)
    if path[0] == "manager":
        return list(ManagerConfig.model_fields)
    if len(path) == 3:
        return list(ServiceConfig.model_fields)
    if len(path) == 4 and path[2] in ("ready", "health"):
        return list(Probe.model_fields)
    if len(path) >= 4 and path[2] == "depends_on":
        return list(Dependency.model_fields)
    if len(path) >= 4 and path[2] == "env_file":
        return list(EnvFile.model_fields)
    return []


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
