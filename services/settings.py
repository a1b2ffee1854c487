"""Ports, URLs and paths from the environment (.env), with defaults. See .env.example."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORTS = {
    "database_manager": 8005,
    "execution_manager": 8002,
    "scheduler": 8003,
    "websocket_server": 8001,
    "agent_server": 8006,
    "notification_manager": 8007,
}
SERVICES = list(DEFAULT_PORTS)


def port(service: str) -> int:
    return int(os.environ.get(f"{service.upper()}_PORT", DEFAULT_PORTS[service]))


def url(service: str) -> str:
    host = os.environ.get(f"{service.upper()}_HOST", "127.0.0.1")
    return f"http://{host}:{port(service)}"


def database_path() -> Path:
    """DATABASE_URL=sqlite:///path; default: the manager's state dir (or ./.autogpt-dev)."""
    db_url = os.environ.get("DATABASE_URL", "")
    if db_url.startswith("sqlite:///"):
        return Path(db_url.removeprefix("sqlite:///"))
    if db_url:
        raise SystemExit(f"DATABASE_URL {db_url!r}: only sqlite:/// is built in")
    state = os.environ.get("AUTOGPT_DEV_STATE_DIR", ".autogpt-dev")
    return Path(state) / "autogpt.db"


def max_concurrent_nodes() -> int:
    return int(os.environ.get("EXECUTION_MAX_CONCURRENCY", "4"))


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """n distinct free ports: each socket stays bound until all are picked (a port closed at
    once can be the kernel's next answer, and two services would be given the same one)."""
    import contextlib
    import socket

    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


def isolated_env(state_dir: Path) -> dict[str, str]:
    """Environment for running the whole stack beside any other copy (tests, bench, scripts):
    free ports for all six services, its own state dir, and this interpreter as `python`."""
    import sys

    return {
        **{
            f"{s.upper()}_PORT": str(p)
            for s, p in zip(DEFAULT_PORTS, free_ports(len(DEFAULT_PORTS)), strict=True)
        },
        "AUTOGPT_DEV_STATE_DIR": str(state_dir),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
