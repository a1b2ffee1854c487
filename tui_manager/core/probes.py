"""Readiness and liveness probes: a registry of kinds (http, tcp, exec, log), each owning how it
parses its target (once), checks, and waits to be ready. Plain asyncio, no HTTP client library:
an http check is one GET with `Connection: close`.

A new kind: subclass Probe, implement `check` (and `wait_ready` if polling is wrong for it),
and add it to KINDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from ..config.spec import ProbeSpec

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "0.0.0.0", "::1", "::", ""})
READY_INTERVAL = 0.2  # a ready probe's default: start often
HEALTH_INTERVAL = 5.0


def split_hostport(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


class Probe:
    """One probe of one service, made from its spec once per config."""

    def __init__(self, spec: ProbeSpec, cwd: str, env: Callable[[], dict[str, str]]) -> None:
        self.spec = spec
        self.cwd = cwd
        self.env = env
        self.label = spec.kind

    def local_port(self) -> tuple[str, int] | None:
        """The (host, port) on this machine the service will listen on, if the probe says."""
        return None

    async def check(self) -> tuple[bool, str]:
        raise NotImplementedError

    async def checked(self) -> tuple[bool, str]:
        """`check` within the spec's timeout; errors are a failed check, never an exception."""
        try:
            return await asyncio.wait_for(self.check(), self.spec.timeout)
        except TimeoutError:
            return False, f"timed out after {self.spec.timeout:g}s"
        except OSError as e:
            return False, e.strerror or str(e)

    async def wait_ready(self, deadline: float) -> tuple[bool, str]:
        """Poll until the check passes or the deadline (monotonic) is reached."""
        detail = "no answer yet"
        while time.monotonic() < deadline:
            ok, detail = await self.checked()
            if ok:
                return True, detail
            await asyncio.sleep(
                min(self.spec.interval or READY_INTERVAL, max(0.0, deadline - time.monotonic()))
            )
        return False, detail

    @property
    def wants_output(self) -> bool:
        """Whether `feed` should get the service's lines (decoding them costs)."""
        return False

    def new_generation(self) -> None:
        """A new process was spawned."""

    def feed(self, lines: list[str]) -> None:
        """Output of the service (only the log probe listens)."""


class HttpProbe(Probe):
    def __init__(self, spec: ProbeSpec, cwd: str, env: Callable[[], dict[str, str]]) -> None:
        super().__init__(spec, cwd, env)
        parts = urlsplit(spec.target)
        self.https = parts.scheme == "https"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if self.https else 80)
        self.netloc = parts.netloc
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.label = f"http {self.port}"

    def local_port(self) -> tuple[str, int] | None:
        return (self.host, self.port) if self.host in LOCAL_HOSTS else None

    async def check(self) -> tuple[bool, str]:
        ctx = None
        if self.https:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # a local dev service's self-signed cert is fine
        reader, writer = await asyncio.open_connection(self.host, self.port, ssl=ctx)
        try:
            writer.write(
                f"GET {self.path} HTTP/1.1\r\nHost: {self.netloc}\r\nUser-Agent: autogpt-dev\r\n"
                "Connection: close\r\n\r\n".encode()
            )
            await writer.drain()
            status_line = await reader.readline()
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        fields = status_line.decode("latin-1").split()
        if len(fields) < 2 or not fields[1].isdigit():
            return False, "not an HTTP answer"
        code = int(fields[1])
        return 200 <= code < 400, f"http {code}"


class TcpProbe(Probe):
    def __init__(self, spec: ProbeSpec, cwd: str, env: Callable[[], dict[str, str]]) -> None:
        super().__init__(spec, cwd, env)
        self.host, self.port = split_hostport(spec.target)
        self.label = f"tcp {self.port}"

    def local_port(self) -> tuple[str, int] | None:
        return (self.host, self.port) if self.host in LOCAL_HOSTS else None

    async def check(self) -> tuple[bool, str]:
        _, writer = await asyncio.open_connection(self.host, self.port)
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True, f"tcp {self.port} open"


class ExecProbe(Probe):
    async def checked(self) -> tuple[bool, str]:
        return await self.check()  # check() enforces the timeout itself: it kills the command

    async def check(self) -> tuple[bool, str]:
        proc = await asyncio.create_subprocess_shell(
            self.spec.target,
            cwd=self.cwd,
            env=self.env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            code = await asyncio.wait_for(proc.wait(), self.spec.timeout)
        except (TimeoutError, asyncio.CancelledError):
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            return False, f"timed out after {self.spec.timeout:g}s"
        return code == 0, f"exec exit {code}"


class LogProbe(Probe):
    """Ready when a line of the service's output matches the regex: waits, never polls."""

    def __init__(self, spec: ProbeSpec, cwd: str, env: Callable[[], dict[str, str]]) -> None:
        super().__init__(spec, cwd, env)
        self.pattern = re.compile(spec.target)
        self.label = f"log /{spec.target}/"
        self.matched = asyncio.Event()

    @property
    def wants_output(self) -> bool:
        return not self.matched.is_set()

    def new_generation(self) -> None:
        self.matched = asyncio.Event()

    def feed(self, lines: list[str]) -> None:
        if not self.matched.is_set() and any(self.pattern.search(x) for x in lines):
            self.matched.set()

    async def check(self) -> tuple[bool, str]:
        return self.matched.is_set(), self.label

    async def wait_ready(self, deadline: float) -> tuple[bool, str]:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.matched.wait(), max(0.0, deadline - time.monotonic()))
        return self.matched.is_set(), self.label


KINDS: dict[str, type[Probe]] = {
    "http": HttpProbe,
    "tcp": TcpProbe,
    "exec": ExecProbe,
    "log": LogProbe,
}


def make(spec: ProbeSpec | None, cwd: str, env: Callable[[], dict[str, str]]) -> Probe | None:
    return None if spec is None else KINDS[spec.kind](spec, cwd, env)


def _answers(family: int, host: str, port: int) -> bool:
    import socket

    target = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((target, port)) == 0


def port_holder(host: str, port: int) -> str | None:
    """None if the port is free, else how it is taken: "in use by pid N (name)", or "in use
    (holder not visible)" when this user may not see who holds it (never "free")."""
    import errno
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bind_host = {"localhost": "127.0.0.1", "": "0.0.0.0"}.get(host, host)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bind_host, port))
            free = True
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                return None
            free = False
    if free and not _answers(family, bind_host, port):
        # (BSD's SO_REUSEADDR lets a specific address bind beside a wildcard listener, so on
        # macOS a bind alone would call a taken port free: someone answering is the proof.)
        return None
    # Taken means someone listens. A port only in TIME_WAIT (a closed connection of a previous
    # run) is not held by anyone: the service decides with its own SO_REUSEADDR.
    import psutil  # only when a port is really taken

    from ..platform.pstable import port_listener

    pid = port_listener(port)
    if pid is None:
        return "in use (holder not visible)"
    try:
        name = psutil.Process(pid).name()
    except psutil.Error:
        name = "?"
    return f"in use by pid {pid} ({name})"
