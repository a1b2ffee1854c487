"""NotificationManager: receives completion/failure events, records and logs them.

POST /notify {"execution_id", "kind", "message"}   GET /notifications[?execution_id=...]
"""

from __future__ import annotations

from aiohttp import web

from .common import Database, serve, setup_logging

log = setup_logging("notification_manager")


def make_app(db: Database) -> web.Application:
    async def notify(request: web.Request) -> web.Response:
        body = await request.json()
        note = await db.call(
            "add_notification",
            execution_id=body.get("execution_id"),
            kind=str(body.get("kind", "info")),
            message=str(body["message"]),
        )
        log.info("notification [%s] %s", note["kind"], note["message"])
        return web.json_response(note, status=201)

    async def list_(request: web.Request) -> web.Response:
        eid = request.query.get("execution_id")
        return web.json_response(await db.call("list_notifications", execution_id=eid))

    app = web.Application()
    app.router.add_post("/notify", notify)
    app.router.add_get("/notifications", list_)
    return app


def main() -> None:
    db = Database()
    serve(make_app(db), "notification_manager", (db,))


if __name__ == "__main__":
    main()
