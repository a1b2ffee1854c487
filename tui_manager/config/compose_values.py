"""The tables and small parsers of compose values that the importer uses: which keys map to
what, durations, ports, the checks that become our own probes, paths that only exist in an
image."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from .interpolate import Piece, Var

CONDITIONS = {
    "service_started": "started",
    "service_healthy": "ready",
    "service_completed_successfully": "completed",
}
RESTARTS = {"no": "no", "always": "always", "on-failure": "on-failure", "unless-stopped": "always"}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
_URL = re.compile(
    r"^https?://(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(:(\d+|\$\{[^}]+\}))?(/\S*)?$"
)
# What init turns into our keys (docs/coming-from.md says into what).
MAPPED = frozenset(
    {"build", "command", "entrypoint", "working_dir", "environment", "env_file", "depends_on"}
    | {"healthcheck", "restart", "stop_signal", "stop_grace_period", "tty", "profiles"}
    | {"image", "volumes", "ports", "develop"}  # develop.watch: what `up --dev` does anyway
)
# Outside a container these mean nothing, and leaving them out changes nothing for a process.
CONTAINER_ONLY = frozenset(
    {"container_name", "hostname", "domainname", "networks", "labels", "logging", "platform"}
    | {"pull_policy", "init", "stdin_open", "privileged", "cap_add", "cap_drop", "security_opt"}
    | {"ulimits", "shm_size", "sysctls", "devices", "dns", "dns_search", "dns_opt", "mac_address"}
    | {"mem_limit", "memswap_limit", "mem_reservation", "mem_swappiness", "cpus", "cpu_shares"}
    | {"cpu_quota", "cpu_period", "cpuset", "cpu_count", "cpu_percent", "oom_score_adj"}
    | {"oom_kill_disable", "pids_limit", "runtime", "isolation", "ipc", "pid", "cgroup"}
    | {"cgroup_parent", "userns_mode", "storage_opt", "blkio_config", "device_cgroup_rules"}
    | {"gpus", "group_add", "read_only", "tmpfs", "annotations", "attach", "expose", "deploy"}
    | {"network_mode", "scale"}  # (reported only when they change something)
)
# Kept as a note, one line each: what a process here does differently.
REPORTED = ("secrets", "configs", "user", "extra_hosts", "links", "volumes_from")


def container_paths(words: list[str]) -> list[str]:
    """Absolute paths a command names (also inside `-c` scripts and key=value words) that do
    not exist on this machine: signs that the command belongs to its image."""
    found = []
    for word in words:
        for token in re.split(r"[\s=:;'\"()]+", word):
            real = token.startswith("/") and not token.startswith("//") and len(token) > 1
            if real and not Path(token).exists():  # (a URL's //host is not a path)
                found.append(token)
    return found


def empty_default(p: Piece, lookup: dict[str, str]) -> Piece:
    if isinstance(p, Var) and p.op is None and p.name not in lookup:
        return Var(p.name, ":-", ())
    return p


def signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def duration(text: str) -> float | None:
    """Compose durations: 1m30s, 10s, 500ms, 1h; a bare number is seconds."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def native_probe(cmd: str) -> dict[str, str] | None:
    """A healthcheck that only asks for an HTTP answer or an open port becomes our own probe
    (no curl or nc needed here); anything else stays an exec probe."""
    core = re.sub(r"\s*\|\|\s*(exit 1|false)\s*$", "", cmd.strip())
    if re.search(r"[;&|`]", core):
        return None
    words = shlex.split(core)
    if not words:
        return None
    urls = [w for w in words[1:] if _URL.match(w)]
    if words[0] in ("curl", "wget") and len(urls) == 1:
        return {"http": urls[0].replace("0.0.0.0", "127.0.0.1")}
    if words[0] in ("nc", "netcat") and "-z" in words and len(words) >= 4:
        host, port = words[-2], words[-1]
        if port.isdigit() and host in ("localhost", "127.0.0.1", "0.0.0.0"):
            return {"tcp": f"127.0.0.1:{port}"}
    return None


def port_pair(port: Any) -> tuple[str | None, str | None]:
    """(published, target) of a compose port entry; None where it says nothing."""
    if isinstance(port, dict):
        published = port.get("published")
        return (str(published) if published else None), str(port.get("target", "")) or None
    text = str(port).split("/")[0]
    parts = text.rsplit(":", 2)
    if len(parts) == 1:
        return None, parts[0]
    return parts[-2], parts[-1]
