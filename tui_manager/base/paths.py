"""Where things live in a state dir: one function per path, used by the engine, the CLI, the
control socket and the attach client alike."""

from __future__ import annotations

import os
from pathlib import Path

from ..platform import CAPS

# sockaddr_un.sun_path holds the path and its NUL: 108 bytes on Linux, 104 on macOS and the BSDs.
MAX_SOCKET_PATH = CAPS.max_socket_path


def logs_dir(state_dir: Path) -> Path:
    return state_dir / "logs"


def log_path(state_dir: Path, service: str) -> Path:
    return logs_dir(state_dir) / f"{service}.log"


def events_path(state_dir: Path) -> Path:
    return logs_dir(state_dir) / "events.jsonl"


def payload_path(state_dir: Path, service: str) -> Path:
    """Where an AppProcess is pickled for its bootstrap (read once, then removed)."""
    return state_dir / "run" / f"{service}.payload"


def pid_file(state_dir: Path) -> Path:
    return state_dir / "manager.pid"


def lock_file(state_dir: Path) -> Path:
    return state_dir / "manager.lock"


def socket_pointer(state_dir: Path) -> Path:
    """Holds the real socket path when `control.sock` in the state dir would be too long."""
    return state_dir / "control.sock.path"


def socket_path(state_dir: Path) -> Path:
    direct = state_dir / "control.sock"
    if len(os.fsencode(direct)) <= MAX_SOCKET_PATH:
        return direct
    pointer = socket_pointer(state_dir)
    if pointer.is_file():
        return Path(pointer.read_text().strip())
    import hashlib  # (only for a state dir too deep for a unix socket)
    import tempfile

    runtime = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    digest = hashlib.sha1(os.fsencode(state_dir)).hexdigest()[:16]
    return Path(runtime) / f"autogpt-dev-{digest}.sock"
