"""Listening sockets the manager holds for a service for the whole run: those `listen` names,
and in dev mode the address of a known server's own command line (uvicorn --port, gunicorn -b,
hypercorn -b). Bound before the service's first start and kept until the stack stops, they are
handed to every start, cold or warm, as fds 3, 4, ... with systemd's LISTEN_FDS, LISTEN_PID and
LISTEN_FDNAMES. Between two processes of a service, connections wait in the backlog instead of
being refused. Servers that do not read LISTEN_FDS get their own flag (uvicorn --fd 3,
hypercorn --bind fd://3); gunicorn reads it natively.

A process asked to stop may still accept a connection in its last moments, and close it unread
as it shuts down (uvicorn and aiohttp both do: the client sees a reset). Where the kernel allows
(Linux: an SO_REUSEPORT group steered by a one-line BPF program), a restart therefore first
*hands over*: new sockets on the same addresses take every new connection from then on, the
old process serves what it had already accepted, and only then is it asked to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Iterable
from typing import NamedTuple

from .. import platform
from ..base import pyargs
from ..config.spec import listen_address
from .process import LISTEN_FDS_START, SpawnError

FIRST_FD = LISTEN_FDS_START
BACKLOG = 1024  # connections that wait while a service restarts
HANDOVER_WAIT = 0.5  # at most this long for the old process to take what is queued for it
SETTLE = 0.005  # then this long for it to read the requests it took (its loop is not stopping)
SERVERS = ("uvicorn", "gunicorn", "hypercorn")
DEFAULT_ADDRESS = "127.0.0.1:8000"  # where all three listen when told nothing


class Held(NamedTuple):
    address: str  # as written
    sock: socket.socket


def bind(address: str, joining: bool = False) -> socket.socket:
    """A listening socket on `address`; SpawnError naming who holds the port if taken.
    `joining`: a new socket for an address we hold already (a handover)."""
    host, port = listen_address(address)
    if not joining and platform.CAPS.steering:
        from .probes import port_holder  # SO_REUSEPORT must not join someone else's group

        if (holder := port_holder(host, port)) is not None:
            raise SpawnError(f"listen {address}: port {port} is already {holder}")
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except OSError as e:
        raise SpawnError(f"listen {address}: {e.strerror or e}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if platform.CAPS.steering:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        # Accepted connections inherit it: uvicorn's --fd takes the socket for a unix one and
        # would never set it itself (small responses would wait on delayed ACKs).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(addr)
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        from .probes import port_holder

        holder = port_holder(host, port) or "in use"
        raise SpawnError(f"listen {address}: port {port} is already {holder}") from None
    return sock


class HeldSockets:
    def __init__(self) -> None:
        self._held: dict[str, list[Held]] = {}
        self._retiring: dict[str, list[Held]] = {}  # handed over, the old process still on them

    def hold(self, name: str, addresses: Iterable[str]) -> list[Held]:
        """The service's sockets: bound at its first start, the same ones after that (those
        of an address no longer listed are closed, a new address is bound)."""
        wanted = list(dict.fromkeys(addresses))
        current = {h.address: h for h in self._held.get(name, [])}
        held: list[Held] = []
        new: list[Held] = []
        try:
            for address in wanted:
                if address in current:
                    held.append(current[address])
                else:
                    new.append(Held(address, bind(address)))
                    held.append(new[-1])
        except SpawnError:
            for h in new:
                h.sock.close()
            raise
        for address, h in current.items():
            if address not in wanted:
                h.sock.close()
        self._held[name] = held
        return held

    async def handover(self, name: str) -> None:
        """A running process of `name` is about to be stopped for a restart: new sockets on
        the same addresses take every new connection from now on; return once the old process
        has taken (and read) what was queued for it. A no-op where steering is not possible,
        or while a handover of `name` is still under way."""
        if self.steer(name):
            await self.drained(name)

    def steer(self, name: str) -> bool:
        """The first half of a handover: the new sockets, every new connection to them."""
        old = self._held.get(name)
        if not old or name in self._retiring or not platform.CAPS.steering:
            return False
        new: list[Held] = []
        try:
            for h in old:
                new.append(Held(h.address, bind(h.address, joining=True)))
                if not platform.steer_connections(new[-1].sock, 1):  # [old, new]: the new one
                    raise OSError("the kernel refused the steering program")
        except (SpawnError, OSError):
            for h in new:
                h.sock.close()
            return False  # the shared socket stays: a restart still refuses nothing, as before
        self._held[name], self._retiring[name] = new, old
        return True

    async def drained(self, name: str) -> None:
        """The second half: until the old process has taken what was queued for it, and had
        a moment to read those requests (it is not stopping yet: it serves them)."""
        old = self._retiring.get(name, [])
        deadline = time.monotonic() + HANDOVER_WAIT
        while any(platform.accept_queue(h.sock) for h in old) and time.monotonic() < deadline:
            await asyncio.sleep(0.002)
        if old:
            await asyncio.sleep(SETTLE)

    def retire(self, name: str) -> None:
        """The old process of a handover has exited: its sockets go (nothing is queued on
        them: every new connection went to the new ones)."""
        for h in self._retiring.pop(name, []):
            h.sock.close()
        for h in self._held.get(name, []):
            platform.steer_connections(h.sock, 0)  # (the group is this one alone again)

    def addresses(self, name: str) -> list[str]:
        return [h.address for h in self._held.get(name, [])]

    def ports(self) -> set[int]:
        return {h.sock.getsockname()[1] for held in self._held.values() for h in held}

    def release(self, name: str) -> None:
        for h in [*self._held.pop(name, []), *self._retiring.pop(name, [])]:
            h.sock.close()

    def close(self) -> None:
        for name in {*self._held, *self._retiring}:
            self.release(name)


# ---- handing them to a program --------------------------------------------------------------
def environment(name: str, count: int) -> dict[str, str]:
    """LISTEN_FDS and LISTEN_FDNAMES (LISTEN_PID is the program's own pid: set as it starts)."""
    return {"LISTEN_FDS": str(count), "LISTEN_FDNAMES": ":".join([name] * count)}


# ---- known servers --------------------------------------------------------------------------
class ServerLine(NamedTuple):
    server: str  # uvicorn | gunicorn | hypercorn
    addresses: list[str]  # where its command line says it listens
    args_at: int  # index in argv where the server's own arguments start


def server_line(argv: list[str]) -> ServerLine | None:
    """A known server's command line (`uvicorn app:app --port 8000`, `python -m uvicorn ...`,
    `gunicorn -b host:port app:app`, ...) that listens on TCP, and where; else None."""
    if not argv:
        return None
    exe = os.path.basename(argv[0])
    start, server = 1, exe
    if exe.startswith("python"):
        cmd = pyargs.parse(argv[1:])
        if cmd.mode != "module":
            return None
        server, start = cmd.target, len(argv) - len(cmd.args)
    if server not in SERVERS:
        return None
    args = argv[start:]
    if server == "uvicorn":
        if any(a.split("=")[0] in ("--uds", "--fd") for a in args):
            return None
        host = _value(args, ("--host",)) or "127.0.0.1"
        port = _value(args, ("--port",)) or "8000"
        host = f"[{host}]" if ":" in host else host
        return ServerLine(server, [f"{host}:{port}"], start)
    binds = _values(args, ("-b", "--bind"))
    if any(b.startswith(("unix:", "fd://")) for b in binds):
        return None
    return ServerLine(server, [_tcp(b) for b in binds] or [DEFAULT_ADDRESS], start)


def with_sockets(argv: list[str], count: int) -> list[str]:
    """The command line of a known server told to use fds 3.. instead of binding itself."""
    line = server_line(argv)
    if line is None or line.server == "gunicorn":  # (gunicorn reads LISTEN_FDS itself)
        return argv
    head, args = argv[: line.args_at], argv[line.args_at :]
    if line.server == "uvicorn":
        return [*head, *_without(args, ("--host", "--port")), "--fd", str(FIRST_FD)]
    binds = [a for i in range(count) for a in ("--bind", f"fd://{FIRST_FD + i}")]
    return [*head, *_without(args, ("-b", "--bind")), *binds]


def _tcp(bind: str) -> str:
    if bind.isdigit():
        return f"0.0.0.0:{bind}"
    return bind if ":" in bind else f"{bind}:8000"


def _values(args: list[str], names: tuple[str, ...]) -> list[str]:
    out = []
    it = iter(args)
    for a in it:
        name, eq, value = a.partition("=")
        if name in names:
            out.append(value if eq else next(it, ""))
        elif any(a.startswith(n) and not n.startswith("--") and len(a) > 2 for n in names):
            out.append(a[2:])  # -b127.0.0.1:8000
    return out


def _value(args: list[str], names: tuple[str, ...]) -> str | None:
    found = _values(args, names)
    return found[-1] if found else None


def _without(args: list[str], names: tuple[str, ...]) -> list[str]:
    out = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        name, eq, _ = a.partition("=")
        if name in names:
            skip = not eq
            continue
        if any(a.startswith(n) and not n.startswith("--") and len(a) > 2 for n in names):
            continue
        out.append(a)
    return out
