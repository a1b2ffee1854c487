"""What every service shares: logging from config, a retrying JSON client, running an app."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from aiohttp.abc import AbstractAccessLogger


def setup_logging(name: str) -> logging.Logger:
    # The seed hard-coded DatabaseManager().set_log_level("warning"); here it is config: LOG_LEVEL.
    level = os.environ.get("LOG_LEVEL", "info").upper()
    logging.basicConfig(level=level, format="%(levelname)-7s %(name)s: %(message)s", force=True)
    logging.getLogger("aiohttp.access").setLevel(level)
    return logging.getLogger(name)


class Unavailable(Exception):
    pass


class Client:
    """JSON over HTTP with retries: a dependency that restarts is waited for, not crashed on."""

    def __init__(self, base: str, retry_for: float = 30.0) -> None:
        self.base = base
        self.retry_for = retry_for
        self._session: ClientSession | None = None

    async def session(self) -> ClientSession:
        if self._session is None or self._session.closed:
            self._session = ClientSession(timeout=ClientTimeout(total=10))
        return self._session

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        deadline = time.monotonic() + self.retry_for
        delay = 0.05
        while True:
            try:
                s = await self.session()
                async with s.request(method, self.base + path, json=body) as r:
                    if r.status >= 500 or r.status == 503:
                        raise Unavailable(f"{r.status} from {self.base}{path}")
                    data = await r.json()
                    if r.status >= 400:
                        raise web.HTTPBadRequest(text=str(data))
                    return data
            except (TimeoutError, ClientError, Unavailable, ConnectionError) as e:
                if time.monotonic() > deadline:
                    raise Unavailable(f"{self.base}{path}: {e}") from e
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def get(self, path: str) -> Any:
        return await self.request("GET", path)

    async def post(self, path: str, body: Any = None) -> Any:
        return await self.request("POST", path, body)

    async def close(self) -> None:
        if self._session:
            await self._session.close()


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "pid": os.getpid()})


class QuietAccessLogger(AbstractAccessLogger):
    """Request lines, without the manager's health probes drowning the useful ones."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.path != "/health":
            self.logger.info(
                "%s %s %d %.1fms", request.method, request.path_qs, response.status, time * 1000
            )


def serve(app: web.Application, service: str, clients: tuple[Client, ...] = ()) -> None:
    """Run until SIGTERM/SIGINT (aiohttp handles both and shuts down cleanly)."""
    from . import settings

    async def close_clients(_: web.Application) -> None:
        for c in clients:
            await c.close()

    app.on_cleanup.append(close_clients)
    app.router.add_get("/health", health)
    sock = inherited_socket()
    where: dict[str, Any] = (
        {"sock": sock}
        if sock is not None
        else {"host": "127.0.0.1", "port": settings.port(service)}
    )
    web.run_app(app, print=None, access_log_class=QuietAccessLogger, **where)


def inherited_socket() -> socket.socket | None:
    """The listening socket a manager handed us (systemd's protocol: LISTEN_FDS sockets from
    fd 3, for this pid), so connections made while we restart wait instead of being refused."""
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return None
    count = int(os.environ.get("LISTEN_FDS", "0") or 0)
    for var in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):  # not for our children
        os.environ.pop(var, None)
    return socket.socket(fileno=3) if count >= 1 else None


class Database(Client):
    """The database_manager's RPC, as method calls: `await db.call("get_agent", agent_id=...)`."""

    def __init__(self, retry_for: float = 30.0) -> None:
        from . import settings

        super().__init__(settings.url("database_manager"), retry_for)

    async def call(self, method: str, **kwargs: Any) -> Any:
        return (await self.post(f"/rpc/{method}", kwargs))["result"]
