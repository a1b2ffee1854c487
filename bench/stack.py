"""The default stack under the manager: cold start to all-ready, and executions end to end.

    python -m bench.stack [--runs 5] [--executions 200]

Cold start: `autogpt-dev up --headless` launched -> every service `ready` (from events.jsonl).
Executions: N executions of a 3-node agent (text -> uppercase -> http_get), each timed from
the POST that queues it to `completed` on the websocket; reported as throughput and p50/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bench import machine
from services.settings import SERVICES, isolated_env

REPO = Path(__file__).resolve().parents[1]
AGENT = {
    "name": "bench",
    "nodes": [
        {"id": "a", "type": "text", "config": {"text": "hello"}},
        {"id": "b", "type": "uppercase", "inputs": ["a"]},
        {"id": "c", "type": "http_get", "inputs": ["b"]},
    ],
}


def start_stack(tmp: Path) -> tuple[subprocess.Popen[bytes], dict[str, int], float]:
    env = {**os.environ, **isolated_env(tmp / "state")}
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in SERVICES}
    t0 = time.time()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_manager",
            "up",
            "--headless",
            "-c",
            str(REPO / "autogpt-dev.toml"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    events = tmp / "state" / "logs" / "events.jsonl"
    while True:
        if events.exists():
            rows = [json.loads(x) for x in events.read_text().splitlines()]
            ready = {r["service"]: r["ts"] for r in rows if r["event"] == "ready"}
            if set(ready) == set(SERVICES):
                return proc, ports, max(ready.values()) - t0
        if proc.poll() is not None or time.time() - t0 > 60:
            raise RuntimeError("the stack did not start")
        time.sleep(0.01)


def stop_stack(proc: subprocess.Popen[bytes]) -> float:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    return time.monotonic() - t0


async def executions(ports: dict[str, int], n: int, concurrency: int) -> tuple[float, list[float]]:
    api = f"http://127.0.0.1:{ports['agent_server']}"
    ws_url = f"http://127.0.0.1:{ports['websocket_server']}/ws"
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/agents", json=AGENT) as r:
            agent_id = (await r.json())["id"]
        limit = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with limit, http.ws_connect(ws_url) as ws:
                t0 = time.monotonic()
                async with http.post(f"{api}/agents/{agent_id}/execute", json={}) as r:
                    eid = (await r.json())["id"]
                await ws.send_json({"subscribe": eid})
                async for msg in ws:
                    if msg.json()["event"] in ("completed", "failed"):
                        assert msg.json()["event"] == "completed"
                        break
                latencies.append(time.monotonic() - t0)

        t0 = time.monotonic()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.monotonic() - t0, latencies


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.stack")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--executions", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=10)
    args = ap.parse_args()
    starts, stops = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as d:
            proc, _, took = start_stack(Path(d))
            starts.append(took)
            stops.append(stop_stack(proc))
    with tempfile.TemporaryDirectory() as d:
        proc, ports, _ = start_stack(Path(d))
        try:
            total, lat = asyncio.run(executions(ports, args.executions, args.concurrency))
        finally:
            stop_stack(proc)
    lat.sort()
    print(
        f"cold start to all-ready ({args.runs} runs): median {statistics.median(starts):.3f}s "
        f"min {min(starts):.3f}s max {max(starts):.3f}s"
    )
    print(f"orderly stop of the stack: median {statistics.median(stops):.3f}s")
    print(
        f"{args.executions} executions of a 3-node agent ({args.concurrency} at a time): "
        f"{args.executions / total:.1f}/s, p50 {lat[len(lat) // 2] * 1000:.0f} ms, "
        f"p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    with machine.alone("python -m bench.stack"):
        raise SystemExit(main())
