"""ExecutionManager, the foreground process: claims queued executions, runs their nodes
(concurrently up to EXECUTION_MAX_CONCURRENCY), publishes progress to websocket_server, and
reports results to database_manager and notification_manager.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from aiohttp import ClientSession, web

from . import settings
from .common import Client, Database, Unavailable, health, inherited_socket, setup_logging

log = setup_logging("execution_manager")
POLL = 1.0  # the fallback; agent_server wakes us (POST /wake) when it queues an execution


class Executor:
    def __init__(self, db: Database, ws: Client, notifier: Client) -> None:
        self.db, self.ws, self.notifier = db, ws, notifier
        self.limit = asyncio.Semaphore(settings.max_concurrent_nodes())
        self.worker = f"execution_manager-{os.getpid()}"
        self.http = ClientSession()
        self.wake = asyncio.Event()

    async def publish(self, eid: str, event: str, **extra: Any) -> None:
        await self.ws.post("/publish", {"execution_id": eid, "event": event, **extra})

    async def run_node(self, node: dict[str, Any], text: str, eid: str) -> str:
        cfg = node.get("config", {})
        kind = node["type"]
        if kind == "text":
            return str(cfg.get("text", text))
        if kind == "uppercase":
            return text.upper()
        if kind == "wait":
            await asyncio.sleep(float(cfg.get("seconds", 0.1)))
            return text
        if kind == "http_get":
            async with self.http.get(
                cfg.get("url", settings.url("agent_server") + "/echo"), params={"msg": text}
            ) as r:
                return await r.text()
        if kind == "notify":
            await self.notifier.post(
                "/notify",
                {"execution_id": eid, "kind": "node", "message": cfg.get("message", text)},
            )
            return text
        raise ValueError(f"unknown node type {kind}")

    async def execute(self, ex: dict[str, Any]) -> None:
        eid = ex["id"]
        started = time.monotonic()
        agent = await self.db.call("get_agent", agent_id=ex["agent_id"])
        nodes = {n["id"]: n for n in agent["nodes"]}
        outputs: dict[str, str] = {}
        done: dict[str, asyncio.Event] = {n: asyncio.Event() for n in nodes}
        log.info("execution %s claimed (%d nodes)", eid, len(nodes))

        async def node_task(node: dict[str, Any]) -> None:
            inputs = node.get("inputs", [])
            for dep in inputs:
                await done[dep].wait()
            text = " ".join(outputs[d] for d in inputs) if inputs else ex.get("input") or ""
            async with self.limit:
                await self.publish(eid, "node_started", node=node["id"])
                outputs[node["id"]] = await self.run_node(node, text, eid)
            await self.publish(eid, "node_finished", node=node["id"], output=outputs[node["id"]])
            done[node["id"]].set()

        try:
            await asyncio.gather(*(node_task(n) for n in nodes.values()))
        except Exception as e:  # a node failed: the execution fails, the manager goes on
            await self.db.call(
                "finish_execution", execution_id=eid, status="failed", outputs=outputs, error=str(e)
            )
            await self.publish(eid, "failed", error=str(e))
            await self.notifier.post(
                "/notify",
                {"execution_id": eid, "kind": "failed", "message": f"execution {eid} failed: {e}"},
            )
            log.warning("execution %s failed: %s", eid, e)
            return
        await self.db.call(
            "finish_execution", execution_id=eid, status="completed", outputs=outputs
        )
        await self.publish(eid, "completed", outputs=outputs)
        await self.notifier.post(
            "/notify",
            {"execution_id": eid, "kind": "completed", "message": f"execution {eid} completed"},
        )
        log.info("execution %s finished in %.0f ms", eid, (time.monotonic() - started) * 1000)

    async def loop(self, stop: asyncio.Event) -> None:
        requeued = await self.db.call("requeue_running")
        if requeued:
            log.info("%d interrupted executions requeued", requeued)
        running: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            try:
                ex = await self.db.call("claim_execution", worker=self.worker)
            except Unavailable as e:
                log.warning("database unavailable: %s", e)
                ex = None
            if ex is None:
                self.wake.clear()
                waiters = [
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self.wake.wait()),
                ]
                await asyncio.wait(waiters, timeout=POLL, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()
                continue
            task = asyncio.create_task(self.execute(ex))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.wait(running, timeout=5)
        await self.http.close()


async def amain() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    executor = Executor(
        Database(),
        Client(settings.url("websocket_server")),
        Client(settings.url("notification_manager")),
    )

    async def wake(_: web.Request) -> web.Response:
        executor.wake.set()
        return web.json_response({"woken": True})

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_post("/wake", wake)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = inherited_socket()  # the manager's, when it holds one (listen)
    site = (
        web.SockSite(runner, sock)
        if sock is not None
        else web.TCPSite(runner, "127.0.0.1", settings.port("execution_manager"))
    )
    await site.start()
    log.info("execution_manager ready (max %d concurrent nodes)", settings.max_concurrent_nodes())
    try:
        await executor.loop(stop)
    finally:
        await runner.cleanup()
        for c in (executor.db, executor.ws, executor.notifier):
            await c.close()
    log.info("execution_manager stopped")


def main() -> None:
    asyncio.run(amain())


if __name__ == "__main__":
    main()
