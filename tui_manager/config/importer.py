"""`autogpt-dev init`: write a commented autogpt-dev.toml from a Procfile or a compose file.

What cannot be carried over (an image with no command, ports, several env files) is written as a
comment in the output and returned as a warning: never silently dropped.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from .read import parse_procfile

CONDITIONS = {
    "service_started": "started",
    "service_healthy": "ready",
    "service_completed_successfully": "completed",
}
RESTARTS = {"no": "no", "on-failure": "on-failure", "always": "always", "unless-stopped": "always"}


def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return toml_str(str(value))


def toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else toml_str(key)


def _seconds(value: Any, default: float) -> float:
    """Compose durations: 10s, 1m30s, 500ms, 1h."""
    if value is None:
        return default
    text, total, num = str(value), 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    i = 0
    while i < len(text):
        if text[i].isdigit() or text[i] == ".":
            num += text[i]
            i += 1
            continue
        unit = text[i : i + 2] if text[i : i + 2] in ("ms", "us") else text[i]
        total += float(num or 0) * units.get(unit, 1)
        num, i = "", i + len(unit)
    return total + float(num or 0)


def _probe(check: dict[str, Any]) -> dict[str, Any] | None:
    test = check.get("test")
    if not test or test == ["NONE"] or check.get("disable"):
        return None
    if isinstance(test, list):
        kind, *rest = test
        cmd = rest[0] if kind == "CMD-SHELL" else shlex.join(rest)
    else:
        cmd = str(test)
    probe: dict[str, Any] = {"exec": cmd, "interval": _seconds(check.get("interval"), 5)}
    if "timeout" in check:
        probe["timeout"] = _seconds(check["timeout"], 2)
    if "retries" in check:
        probe["failures"] = int(check["retries"])
    return probe


def from_compose(data: dict[str, Any], source: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    services: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for name, svc in (data.get("services") or {}).items():
        out: dict[str, Any] = {}
        command = svc.get("command") or svc.get("entrypoint")
        if not command:
            warnings.append(
                f"{name}: image {svc.get('image', '?')!r} has no command to run "
                "outside a container: written commented out"
            )
            out["#command"] = f"# command = ...  (was image {svc.get('image', '?')})"
        else:
            out["command"] = command if isinstance(command, list) else str(command)
            if isinstance(command, str):
                out["shell"] = True
        env = svc.get("environment")
        if isinstance(env, list):
            env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
        if env:
            out["env"] = {k: "" if v is None else str(v) for k, v in env.items()}
        env_file = svc.get("env_file")
        files = [env_file] if isinstance(env_file, str) else list(env_file or [])
        files = [f if isinstance(f, str) else f.get("path") for f in files]
        if files:
            out["env_file"] = files[0]
            if len(files) > 1:
                warnings.append(f"{name}: only the first env_file is used ({files[0]})")
        deps = svc.get("depends_on")
        if isinstance(deps, list):
            out["depends_on"] = deps
        elif isinstance(deps, dict):
            table = {}
            for dep, spec in deps.items():
                cond = CONDITIONS.get((spec or {}).get("condition", ""), "started")
                table[dep] = (
                    {"condition": cond, "restart": True} if (spec or {}).get("restart") else cond
                )
            out["depends_on"] = table
        if svc.get("healthcheck") and (probe := _probe(svc["healthcheck"])):
            out["ready"] = probe
            out["health"] = probe
        if svc.get("restart"):
            out["restart"] = RESTARTS.get(str(svc["restart"]).split(":")[0], "on-failure")
        if svc.get("stop_signal"):
            out["stop_signal"] = svc["stop_signal"]
        if svc.get("stop_grace_period"):
            out["stop_timeout"] = _seconds(svc["stop_grace_period"], 5)
        if svc.get("ports"):
            warnings.append(
                f"{name}: ports {svc['ports']} are published by docker only; "
                "the process binds its own ports here"
            )
        if svc.get("working_dir"):
            warnings.append(
                f"{name}: working_dir {svc['working_dir']} is a container path; "
                "cwd left at the project root"
            )
        services[name] = out
    return services, warnings


def render(services: dict[str, dict[str, Any]], warnings: list[str], source: str) -> str:
    lines = [
        f"# autogpt-dev.toml written by `autogpt-dev init` from {source}.",
        "# Reference: docs/configuration.md (or `autogpt-dev schema`).",
        "",
    ]
    lines += [f"# WARNING: {w}" for w in warnings] + ([""] if warnings else [])
    for name, body in services.items():
        lines.append(f"[services.{toml_key(name)}]")
        for key, value in body.items():
            lines.append(value if key.startswith("#") else f"{key} = {toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def init_text(source: Path) -> tuple[str, list[str]]:
    text = source.read_text()
    if source.name.startswith("Procfile"):
        data, warnings = parse_procfile(text, str(source))
        return render(data["services"], warnings, source.name), warnings
    import yaml  # only `init --from compose.yml` needs it

    data = yaml.safe_load(text) or {}
    services, warnings = from_compose(data, source.name)
    return render(services, warnings, source.name), warnings
