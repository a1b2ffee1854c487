"""DatabaseManager: owns the database and serves it to the others as JSON RPC over HTTP.

POST /rpc/<method> with a JSON object of keyword arguments -> {"result": ...}
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from . import settings
from .common import serve, setup_logging
from .store import Store

log = setup_logging("database_manager")

METHODS = {
    "create_agent",
    "get_agent",
    "list_agents",
    "create_execution",
    "get_execution",
    "list_executions",
    "claim_execution",
    "finish_execution",
    "add_notification",
    "list_notifications",
    "create_schedule",
    "list_schedules",
    "due_schedules",
    "schedule_ran",
    "requeue_running",
}


def make_app(store: Store) -> web.Application:
    async def rpc(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method not in METHODS:
            raise web.HTTPNotFound(text=json.dumps({"error": f"no method {method}"}))
        try:
            kwargs: dict[str, Any] = await request.json() if request.can_read_body else {}
            result = getattr(store, method)(**kwargs)
        except (TypeError, ValueError) as e:
            return web.json_response({"error": str(e)}, status=400)
        log.debug("rpc %s", method)
        return web.json_response({"result": result})

    app = web.Application()
    app.router.add_post("/rpc/{method}", rpc)
    return app


def main() -> None:
    path = settings.database_path()
    store = Store(path)  # created and migrated before we report ready
    log.info("database at %s (WAL mode)", path)
    log.warning("database_manager serving on port %d", settings.port("database_manager"))
    serve(make_app(store), "database_manager")


if __name__ == "__main__":
    main()
