"""Readiness and liveness checks (http, tcp, exec; log regex lives in the supervisor) and ports.

Plain asyncio, no HTTP client dependency: a probe is one GET with `Connection: close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import signal
import socket
import ssl
from urllib.parse import urlsplit

import psutil

from ..config.model import Probe

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "0.0.0.0", "::1", "::", ""})


async def check(probe: Probe, cwd: str, env: dict[str, str]) -> tuple[bool, str]:
    """Run one check; return (passed, short detail for the UI)."""
    try:
        if probe.http is not None:
            return await asyncio.wait_for(_http(probe.http), probe.timeout)
        if probe.tcp is not None:
            return await asyncio.wait_for(_tcp(probe.tcp), probe.timeout)
        if probe.exec is not None:
            return await _exec(probe.exec, cwd, env, probe.timeout)
    except TimeoutError:
        return False, f"timed out after {probe.timeout:g}s"
    except OSError as e:
        return False, e.strerror or str(e)
    return False, f"{probe.kind} probes are checked by the supervisor"


def _split_hostport(target: str) -> tuple[str, int]:
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


async def _tcp(target: str) -> tuple[bool, str]:
    host, port = _split_hostport(target)
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True, f"tcp {port} open"


async def _http(url: str) -> tuple[bool, str]:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    host = parts.hostname or "127.0.0.1"
    ctx = None
    if https:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # a local dev service's self-signed cert is fine
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: autogpt-dev\r\n"
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


async def _exec(command: str, cwd: str, env: dict[str, str], timeout: float) -> tuple[bool, str]:
    proc = await asyncio.create_subprocess_shell(
        command,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        code = await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()
        raise
    return code == 0, f"exec exit {code}"


def probe_port(probe: Probe | None) -> tuple[str, int] | None:
    """The local (host, port) a tcp/http probe points at, if it is on this machine."""
    if probe is None:
        return None
    if probe.tcp is not None:
        host, port = _split_hostport(probe.tcp)
    elif probe.http is not None:
        parts = urlsplit(probe.http)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
    else:
        return None
    return (host, port) if host in LOCAL_HOSTS else None


def port_holder(host: str, port: int) -> str | None:
    """None if the port is free, else 'pid N (name)' (or a best effort) of who holds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bind_host = {"localhost": "127.0.0.1", "": "0.0.0.0"}.get(host, host)
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((bind_host, port))
            return None
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                return None
    # Taken means someone listens. A port only in TIME_WAIT (a closed connection of a previous
    # run) is not held by anyone: the service decides with its own SO_REUSEADDR.
    with contextlib.suppress(psutil.Error):
        for conn in psutil.net_connections(kind="inet"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    return "another process (its pid is not visible to this user)"
                try:
                    name = psutil.Process(conn.pid).name()
                except psutil.Error:
                    name = "?"
                return f"pid {conn.pid} ({name})"
    return None
