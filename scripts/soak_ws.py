"""The soak's websocket subscriber: follows executions on websocket_server as a browser would.

It reconnects when websocket_server restarts and subscribes again to every execution it has not
seen finish (the server replays what it still holds). Per execution it counts the `completed`
and `failed` events it received, so a run delivered twice shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable

import aiohttp


class Subscriber:
    def __init__(self, url: str) -> None:
        self.url = url
        self.finished: dict[str, Counter[str]] = defaultdict(Counter)  # id -> {completed: n}
        self.wanted: set[str] = set()
        self.reconnects = 0
        self._loop = asyncio.new_event_loop()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._closing = False
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._main = asyncio.run_coroutine_threadsafe(self._run(), self._loop)

    def subscribe(self, eid: str) -> None:
        self._loop.call_soon_threadsafe(self._subscribe, eid)

    def settled(self, eids: Iterable[str]) -> bool:
        return all(sum(self.finished[e].values()) for e in eids)

    def close(self) -> None:
        self._closing = True
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(10)
            self._main.result(10)  # its session closed on the way out
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _subscribe(self, eid: str) -> None:
        self.wanted.add(eid)
        if self._ws is not None and not self._ws.closed:
            self._loop.create_task(self._send(eid))

    async def _send(self, eid: str) -> None:
        with contextlib.suppress(Exception):
            assert self._ws is not None
            await self._ws.send_json({"subscribe": eid})

    async def _close(self) -> None:
        if self._ws is not None:
            await self._ws.close()

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while not self._closing:
                try:
                    async with session.ws_connect(self.url, heartbeat=10) as ws:
                        self._ws = ws
                        for eid in self.wanted:
                            if not sum(self.finished[eid].values()):
                                await ws.send_json({"subscribe": eid})
                        async for msg in ws:
                            if msg.type == aiohttp.WSMsgType.TEXT:
                                self._record(msg.json())
                except (TimeoutError, aiohttp.ClientError, OSError):
                    pass
                self._ws = None
                if not self._closing:
                    self.reconnects += 1
                    await asyncio.sleep(0.2)

    def _record(self, event: dict[str, object]) -> None:
        kind = event.get("event")
        if kind in ("completed", "failed"):
            self.finished[str(event.get("execution_id"))][str(kind)] += 1
