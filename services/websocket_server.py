"""WebsocketServer: clients subscribe to an execution id and receive its events live.

GET /ws, then send {"subscribe": "<execution id>"}: the events so far are replayed, then every new
one is pushed (queued, node_started, node_finished with output, completed / failed).
POST /publish {"execution_id", "event", ...}: how the other services report progress.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .common import serve, setup_logging

log = setup_logging("websocket_server")
HISTORY_PER_EXECUTION = 200


def make_app() -> web.Application:
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    subscribers: dict[str, set[web.WebSocketResponse]] = defaultdict(set)

    async def publish(request: web.Request) -> web.Response:
        event = await request.json()
        eid = str(event.get("execution_id"))
        events = history[eid]
        events.append(event)
        del events[:-HISTORY_PER_EXECUTION]
        for ws in list(subscribers[eid]):
            if not ws.closed:
                await ws.send_json(event)
        log.info(
            "execution %s: %s%s",
            eid,
            event.get("event"),
            f" {event['node']}" if "node" in event else "",
        )
        return web.json_response({"delivered": len(subscribers[eid])})

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        connected.add(ws)
        mine: set[str] = set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                eid = str(msg.json().get("subscribe", ""))
                # What was published so far is replayed, what comes later goes live: taken in
                # one step, so an event published during the replay is neither lost nor doubled.
                replay = list(history.get(eid, []))
                mine.add(eid)
                subscribers[eid].add(ws)
                for event in replay:
                    await ws.send_json(event)
        finally:
            connected.discard(ws)
            for eid in mine:
                subscribers[eid].discard(ws)
        return ws

    async def going_away(_: web.Application) -> None:
        # Without this a stop waits for every browser to hang up (the manager's stop_timeout
        # then kills us): tell them we are going, as aiohttp's docs advise.
        for ws in list(connected):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")

    connected: set[web.WebSocketResponse] = set()
    app = web.Application()
    app.router.add_post("/publish", publish)
    app.router.add_get("/ws", websocket)
    app.on_shutdown.append(going_away)
    return app


def main() -> None:
    serve(make_app(), "websocket_server")


if __name__ == "__main__":
    main()
