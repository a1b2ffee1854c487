"""Scheduler: interval schedules stored via database_manager; when one is due it starts an
execution through agent_server.

POST /schedules {"agent_id", "every_seconds"}   GET /schedules
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from . import settings
from .common import Client, Database, Unavailable, serve, setup_logging

log = setup_logging("scheduler")
TICK = 0.5


async def tick(db: Database, api: Client) -> int:
    """Start every due schedule once; return how many ran."""
    ran = 0
    for sched in await db.call("due_schedules"):
        ex = await api.post(f"/agents/{sched['agent_id']}/execute", {"input": "scheduled"})
        await db.call("schedule_ran", schedule_id=sched["id"])
        log.info("schedule %s started execution %s", sched["id"], ex["id"])
        ran += 1
    return ran


def make_app(db: Database, api: Client) -> web.Application:
    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        every = float(body.get("every_seconds", 0))
        if every < 1:
            return web.json_response({"error": "every_seconds must be >= 1"}, status=400)
        sched = await db.call("create_schedule", agent_id=body["agent_id"], every_seconds=every)
        log.info("schedule %s: agent %s every %gs", sched["id"], body["agent_id"], every)
        return web.json_response(sched, status=201)

    async def list_(_: web.Request) -> web.Response:
        return web.json_response(await db.call("list_schedules"))

    async def loop(app: web.Application) -> AsyncIterator[None]:
        async def run() -> None:
            while True:
                try:
                    await tick(db, api)
                except Unavailable as e:
                    log.warning("scheduler tick skipped: %s", e)
                await asyncio.sleep(TICK)

        task = asyncio.create_task(run())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app = web.Application()
    app.router.add_post("/schedules", create)
    app.router.add_get("/schedules", list_)
    app.cleanup_ctx.append(loop)
    return app


def main() -> None:
    db, api = Database(), Client(settings.url("agent_server"))
    serve(make_app(db, api), "scheduler", (db, api))


if __name__ == "__main__":
    main()
