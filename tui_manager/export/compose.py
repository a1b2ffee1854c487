"""docker compose: a compose.yaml with depends_on conditions and healthchecks (Compose Spec)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..config.config import Config
from ..config.spec import ProbeSpec as Probe
from .common import Export, comment_block, probe_target, yaml

CONDITION = {
    "started": "service_started",
    "ready": "service_healthy",
    "completed": "service_completed_successfully",
}
IMAGE = "python:3.11-slim"


def duration(seconds: float) -> str:
    """Compose durations take integer units: 5s, 500ms (never 5.0s)."""
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{round(seconds * 1000)}ms"


def healthcheck(probe: Probe) -> dict[str, Any]:
    kind, _, port, path = probe_target(probe)
    if kind == "http":
        test = [
            "CMD",
            "python",
            "-c",
            f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}{path}')",
        ]
    elif kind == "tcp":
        test = [
            "CMD",
            "python",
            "-c",
            f"import socket; socket.create_connection(('127.0.0.1', {port}), 2)",
        ]
    else:
        test = ["CMD-SHELL", probe.exec or "true"]
    return {
        "test": test,
        "interval": duration(probe.interval or 5),
        "timeout": duration(probe.timeout),
        "retries": probe.failures,
    }


def write(config: Config, out: Path) -> Export:
    result = Export()
    services: dict[str, Any] = {}
    for name, svc in config.enabled().items():
        entry: dict[str, Any] = {
            "image": IMAGE,
            "command": config.argv(name),
            "working_dir": "/app",
            "volumes": [f"{config.resolve(svc.cwd)}:/app"],
            "environment": {"PYTHONUNBUFFERED": "1", **svc.env},
            "restart": {"no": "no", "on-failure": "on-failure", "always": "always"}[
                config.restart_policy(name)
            ],
            "stop_signal": svc.stop_signal_name,
            "stop_grace_period": duration(svc.stop_timeout),
        }
        if svc.env_file:
            entry["env_file"] = [
                {"path": str(path), "required": req} for path, req in config.env_files(name)
            ]
        probe = svc.health or svc.ready
        if probe is not None and probe.log is None:
            entry["healthcheck"] = healthcheck(probe)
        elif svc.ready is not None and svc.ready.log is not None:
            result.warnings.append(f"{name}: a log-regex ready probe has no compose equivalent")
        deps = {}
        for dep, spec in svc.dependencies().items():
            condition = CONDITION[spec.condition]
            if condition == "service_healthy" and "healthcheck" not in _probe_of(config, dep):
                condition = "service_started"  # no probe: ready == started, as in autogpt-dev
            deps[dep] = {"condition": condition, "restart": spec.restart}
        if deps:
            entry["depends_on"] = deps
        services[name] = entry
    result.warnings.append(
        f"every service runs in the image {IMAGE} with the project mounted at "
        "/app: build your own image for production"
    )
    text = (
        comment_block(result.warnings)
        + yaml({"name": config.manager.name, "services": services})
        + "\n"
    )
    path = out / "compose.yaml"
    path.write_text(text)
    result.files.append(path)
    return result


def _probe_of(config: Config, name: str) -> dict[str, Any]:
    svc = config.services[name]
    probe = svc.health or svc.ready
    return {"healthcheck": True} if probe is not None and probe.log is None else {}
