"""The CLI side of the control socket (blocking; one request, one answer)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .statedir import StateDir


class NotRunning(Exception):
    pass


class ControlClient:
    def __init__(self, state_dir: Path, timeout: float | None = None) -> None:
        self.state = StateDir(state_dir)
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        path = self.state.socket_path()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise NotRunning(f"no autogpt-dev manager is running for {self.state.path}") from None
        return sock

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        with self._connect() as sock:
            sock.sendall(json.dumps(req).encode() + b"\n")
            with sock.makefile("rb") as f:
                line = f.readline()
        if not line:
            raise NotRunning("the manager closed the connection")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def stream(self, req: dict[str, Any]) -> Iterator[dict[str, Any]]:
        with self._connect() as sock:
            sock.sendall(json.dumps(req).encode() + b"\n")
            with sock.makefile("rb") as f:
                for line in f:
                    yield json.loads(line)
