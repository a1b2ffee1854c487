"""AgentServer: the REST API clients call. It never touches the database file: it calls
database_manager.

POST /agents {"name", "nodes": [{"id", "type", "config", "inputs"}]}   GET /agents[/{id}]
POST /agents/{id}/execute {"input": "..."} -> the queued execution
GET /executions   GET /executions/{id}   GET /echo?msg=...  (a local target for http_get nodes)
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiohttp import web

from . import settings
from .common import Client, Database, Unavailable, serve, setup_logging

log = setup_logging("agent_server")
NODE_TYPES = {"text", "uppercase", "http_get", "wait", "notify"}


def validate_nodes(nodes: Any) -> list[dict[str, Any]]:
    """A small DAG of nodes: unique ids, known types, inputs naming earlier nodes."""
    if not isinstance(nodes, list) or not nodes:
        raise ValueError("nodes must be a non-empty list")
    seen: set[str] = set()
    for node in nodes:
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            raise ValueError("each node needs a string id")
        if node.get("type") not in NODE_TYPES:
            raise ValueError(f"node {node['id']}: type must be one of {sorted(NODE_TYPES)}")
        for dep in node.get("inputs", []):
            if dep not in seen:
                raise ValueError(f"node {node['id']}: input {dep!r} is not an earlier node")
        if node["id"] in seen:
            raise ValueError(f"duplicate node id {node['id']!r}")
        seen.add(node["id"])
    return nodes


class Waker:
    """Best effort: tell execution_manager there is work (it polls anyway, just less often)."""

    def __init__(self) -> None:
        self.client = Client(settings.url("execution_manager"), retry_for=0)

    async def wake(self) -> None:
        with contextlib.suppress(Unavailable, web.HTTPException):
            await self.client.post("/wake")


def make_app(db: Database, ws: Client, executor: Waker) -> web.Application:
    async def create_agent(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            nodes = validate_nodes(body.get("nodes"))
        except ValueError as e:
            return web.json_response({"error": str(e)}, status=400)
        agent = await db.call("create_agent", name=str(body.get("name", "agent")), nodes=nodes)
        log.info("agent %s created (%d nodes)", agent["id"], len(nodes))
        return web.json_response(agent, status=201)

    async def list_agents(_: web.Request) -> web.Response:
        return web.json_response(await db.call("list_agents"))

    async def get_agent(request: web.Request) -> web.Response:
        agent = await db.call("get_agent", agent_id=request.match_info["id"])
        return web.json_response(agent) if agent else web.json_response({}, status=404)

    async def execute(request: web.Request) -> web.Response:
        agent_id = request.match_info["id"]
        if not await db.call("get_agent", agent_id=agent_id):
            return web.json_response({"error": "no such agent"}, status=404)
        body = await request.json() if request.can_read_body else {}
        ex = await db.call("create_execution", agent_id=agent_id, input=str(body.get("input", "")))
        await ws.post("/publish", {"execution_id": ex["id"], "event": "queued"})
        await executor.wake()
        log.info("execution %s queued for agent %s", ex["id"], agent_id)
        return web.json_response(ex, status=201)

    async def list_executions(_: web.Request) -> web.Response:
        return web.json_response(await db.call("list_executions"))

    async def get_execution(request: web.Request) -> web.Response:
        ex = await db.call("get_execution", execution_id=request.match_info["id"])
        return web.json_response(ex) if ex else web.json_response({}, status=404)

    async def echo(request: web.Request) -> web.Response:
        return web.json_response({"echo": request.query.get("msg", "")})

    app = web.Application()
    app.router.add_post("/agents", create_agent)
    app.router.add_get("/agents", list_agents)
    app.router.add_get("/agents/{id}", get_agent)
    app.router.add_post("/agents/{id}/execute", execute)
    app.router.add_get("/executions", list_executions)
    app.router.add_get("/executions/{id}", get_execution)
    app.router.add_get("/echo", echo)
    return app


def main() -> None:
    log.info("agent_server on port %d", settings.port("agent_server"))
    db, ws, waker = Database(), Client(settings.url("websocket_server")), Waker()
    serve(make_app(db, ws, waker), "agent_server", (db, ws, waker.client))


if __name__ == "__main__":
    main()
