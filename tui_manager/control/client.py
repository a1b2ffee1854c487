"""The client side of the control socket: one request, one answer; blocking (the CLI) or async
(the attach client, the MCP server). Stdlib only, so a control command costs an interpreter
start and little more."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..base import paths
from . import wire


class NotRunning(Exception):
    pass


class Refused(Exception):
    """The manager answered {"ok": false}: its message, and the exit code it suggests."""

    def __init__(self, error: str, code: int) -> None:
        super().__init__(error)
        self.code = code


class ControlClient:
    def __init__(self, state_dir: Path, timeout: float | None = None) -> None:
        self.state_dir = state_dir
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        path = paths.socket_path(self.state_dir)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise NotRunning(f"no autogpt-dev manager is running for {self.state_dir}") from None
        return sock

    def request(self, req: wire.Request) -> dict[str, Any]:
        """The answer's fields; Refused when the manager says no."""
        with self._connect() as sock:
            sock.sendall(wire.encode(req.to_wire()))
            with sock.makefile("rb") as f:
                line = f.readline()
        return answer_of(line)

    def stream(self, req: wire.Request) -> Iterator[dict[str, Any]]:
        with self._connect() as sock:
            sock.sendall(wire.encode(req.to_wire()))
            with sock.makefile("rb") as f:
                for line in f:
                    yield wire.decode(line)


async def async_request(state_dir: Path, req: wire.Request, limit: int = 1 << 26) -> dict[str, Any]:
    """The answer's fields; NotRunning when no manager listens, Refused when it says no."""
    import asyncio

    path = paths.socket_path(state_dir)
    try:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=limit)
    except (FileNotFoundError, ConnectionRefusedError):
        raise NotRunning(f"no autogpt-dev manager is running for {state_dir}") from None
    try:
        writer.write(wire.encode(req.to_wire()))
        line = await reader.readline()
    finally:
        writer.close()
    return answer_of(line)


def answer_of(line: bytes) -> dict[str, Any]:
    """One answer line: its fields; NotRunning if there is none, Refused when it says no."""
    if not line:
        raise NotRunning("the manager closed the connection")
    answer = wire.decode(line)
    if not answer.get("ok"):
        raise Refused(str(answer.get("error", "refused")), int(answer.get("code", 1)))
    return answer
