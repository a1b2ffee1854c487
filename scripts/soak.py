"""Chaos soak of the default stack in dev mode; writes the whole report, charts included.

    python scripts/soak.py --duration 7200      # -> bench/results/soak-<date>.md + charts

The stack runs from a copy of the committed tree (`git archive HEAD`), so the dev-mode edits
touch the copy and the report names exactly the commit it ran. Every --interval seconds one
action, then a wait until every service is ready again (the recovery time is recorded):

- execution: run an agent (text -> http_get on agent_server -> uppercase -> notify) through
  agent_server's REST API; a websocket subscriber on websocket_server follows it;
- flood: 1000 GET /echo requests; every answered one must be in agent_server's log file;
- kill: SIGKILL a background service; stop: SIGSTOP one for 0.5-5 s, then SIGCONT;
- restart: `autogpt-dev restart <service>` over the control socket (the foreground included);
- edit: append a comment to services/<service>.py, as an editor save; dev mode must reload it.

The manager's fds, threads and RSS are sampled every 30 s. At the end: a drain, `down`, and
the checks (see CHECKS below). Exit 0 when every check passed.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench import machine  # noqa: E402
from bench.plot import line_chart  # noqa: E402
from scripts.soak_ws import Subscriber  # noqa: E402
from services.settings import SERVICES, isolated_env  # noqa: E402

FOREGROUND = "execution_manager"
ACTIONS = {"execution": 30, "flood": 12, "kill": 14, "stop": 10, "restart": 14, "edit": 20}
AGENT = {
    "name": "soak",
    "nodes": [
        {"id": "in", "type": "text"},
        {"id": "echo", "type": "http_get", "inputs": ["in"]},
        {"id": "up", "type": "uppercase", "inputs": ["echo"]},
        {"id": "tell", "type": "notify", "inputs": ["up"]},
    ],
}


class Stack:
    """The copy of the project, its manager, and the commands a user would type."""

    def __init__(self, work: Path, tracemalloc: int = 0) -> None:
        self.src = work / "src"
        self.src.mkdir()
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(self.src)], input=archive.stdout, check=True)
        self.state = work / "state"
        self.env = {**os.environ, **isolated_env(self.state)}
        if tracemalloc:  # the manager traces its allocations; `memory` tells where they went
            self.env["AUTOGPT_DEV_TRACEMALLOC"] = str(tracemalloc)
        self.api = f"http://127.0.0.1:{self.env['AGENT_SERVER_PORT']}"
        self.ws_url = f"http://127.0.0.1:{self.env['WEBSOCKET_SERVER_PORT']}/ws"
        self.out = (work / "headless.out").open("wb")
        self.up = subprocess.Popen(
            [sys.executable, "-m", "tui_manager", "up", "--headless", "--dev"],
            cwd=self.src,
            env=self.env,
            stdout=self.out,
            stderr=subprocess.STDOUT,
        )
        self.manager = psutil.Process(self.up.pid)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui_manager", *args],
            cwd=self.src,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def status(self) -> dict[str, dict[str, Any]]:
        answer = self.cli("status", "--json")
        if answer.returncode:
            return {}
        return {s["name"]: s for s in json.loads(answer.stdout)["services"]}

    def wait_ready(self, deadline: float) -> float | None:
        """Seconds until every service is ready, or None at the deadline."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < deadline:
            rows = self.status()
            if rows and all(r["state"] == "ready" for r in rows.values()):
                return time.monotonic() - t0
            time.sleep(0.1)
        return None

    def memory(self) -> dict[str, Any]:
        """The manager's own account of its memory (the `memory` control command)."""
        from tui_manager.control import wire
        from tui_manager.control.client import ControlClient

        try:
            return ControlClient(self.state, timeout=120).request(wire.Request("memory", n=12))
        except Exception as e:  # a diagnosis: never the reason a soak fails
            return {"error": str(e)}

    def log_text(self, service: str) -> str:
        log = self.state / "logs" / f"{service}.log"
        files = [log, *(log.with_name(f"{log.name}.{i}") for i in (1, 2, 3))]
        return "".join(f.read_text(errors="replace") for f in files if f.exists())

    def events(self) -> list[dict[str, Any]]:
        path = self.state / "logs" / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def http(method: str, url: str, body: object = None, timeout: float = 10) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except OSError:
        return 0, None


def retrying(method: str, url: str, body: object = None, for_s: float = 20) -> tuple[int, Any]:
    """As a client would: a service that is restarting is waited for."""
    end = time.monotonic() + for_s
    while True:
        code, answer = http(method, url, body)
        if code or time.monotonic() > end:
            return code, answer
        time.sleep(0.1)


class Soak:
    def __init__(self, stack: Stack, rng: random.Random) -> None:
        self.stack, self.rng = stack, rng
        self.actions: Counter[str] = Counter()
        self.executions: dict[str, str] = {}  # id -> input
        self.not_submitted = 0
        self.floods: list[tuple[str, int]] = []  # (marker, answered with 200)
        self.flood_missing = 0
        self.kills: list[tuple[str, int, float]] = []
        self.edits: list[tuple[str, float]] = []
        self.recoveries: list[float] = []
        self.unrecovered: list[str] = []
        # (t, fds, threads, RSS MB, processes, log rings MB, C heap in use MB, its free MB)
        self.samples: list[tuple[float, int, int, float, int, float, float, float]] = []
        self.loads: list[tuple[float, float, float]] = [machine.load()]
        self.memory: list[tuple[float, dict[str, Any]]] = []  # (t, the manager's `memory`)
        self.subscriber = Subscriber(stack.ws_url)
        self.agent_id = ""

    def sample(self, t: float) -> None:
        m = self.stack.manager
        tree = m.children(recursive=True)
        said = self.stack.memory()  # the manager's own account: what its RSS is made of
        rings = (said.get("rings") or {}).get("held", 0) / 2**20
        heap = said.get("heap") or {}
        in_use, free = heap.get("in_use", 0) / 2**20, heap.get("free", 0) / 2**20
        rss = m.memory_info().rss / 2**20
        self.samples.append((t, m.num_fds(), m.num_threads(), rss, len(tree), rings, in_use, free))
        self.loads.append(machine.load())

    def act(self, action: str) -> None:
        target = self.rng.choice(SERVICES)
        rows = self.stack.status()
        pid = (rows.get(target) or {}).get("pid")
        if action == "execution":
            self.execution()
        elif action == "flood":
            self.flood()
        elif action == "kill" and target != FOREGROUND and pid:
            os.kill(pid, signal.SIGKILL)  # the foreground's death would end the run, by design
            self.kills.append((target, pid, time.time()))
        elif action == "stop" and pid:
            os.kill(pid, signal.SIGSTOP)
            time.sleep(self.rng.uniform(0.5, 5))
            with contextlib.suppress(ProcessLookupError):  # a liveness restart came first: fine
                os.kill(pid, signal.SIGCONT)
        elif action == "restart":
            self.stack.cli("restart", target, "--no-wait")
        elif action == "edit":
            path = self.stack.src / "services" / f"{target}.py"
            with path.open("a") as f:  # an editor's plain save; code (a comment is no change)
                f.write(f"SOAK_EDIT = {len(self.edits)}\n")
            self.edits.append((target, time.time()))
        else:
            action = "skipped"
        self.actions[action] += 1
        took = self.stack.wait_ready(60)
        if took is None:
            self.unrecovered.append(f"{action} {target}")
        else:
            self.recoveries.append(took)

    def execution(self) -> None:
        if not self.agent_id:
            code, agent = retrying("POST", f"{self.stack.api}/agents", AGENT)
            if code != 201:
                self.not_submitted += 1
                return
            self.agent_id = agent["id"]
        text = f"soak-{len(self.executions)}"
        url = f"{self.stack.api}/agents/{self.agent_id}/execute"
        code, ex = retrying("POST", url, {"input": text})
        if code != 201:
            self.not_submitted += 1
            return
        self.executions[ex["id"]] = text
        self.subscriber.subscribe(ex["id"])

    def flood(self) -> None:
        marker = f"flood{len(self.floods)}"
        urls = [f"{self.stack.api}/echo?msg={marker}-{i}" for i in range(1000)]
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda u: http("GET", u, timeout=5)[0], urls))
        answered = codes.count(200)
        self.floods.append((marker, answered))
        # The line is written when the answer is: give the manager's reader a moment to drain.
        end = time.monotonic() + 10
        while True:
            text = self.stack.log_text("agent_server")
            logged = sum(1 for line in text.splitlines() if f"msg={marker}-" in line)
            if logged >= answered or time.monotonic() > end:
                break
            time.sleep(0.1)
        self.flood_missing += max(0, answered - logged)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=7200)
    ap.add_argument("--interval", type=float, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--report", type=Path, default=None)
    ap.add_argument(
        "--tracemalloc",
        type=int,
        default=0,
        metavar="FRAMES",
        help="trace the manager's allocations; the report lists what grew (slows the manager)",
    )
    args = ap.parse_args()
    with machine.alone(f"soak --duration {args.duration:g}"):
        return soak_run(args)


def soak_run(args: argparse.Namespace) -> int:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="autogpt-dev-soak-"))
    stack = Stack(work, args.tracemalloc)
    soak = Soak(stack, random.Random(args.seed))
    started = datetime.datetime.now(datetime.UTC)
    if stack.wait_ready(60) is None:
        stack.cli("down")
        print("the stack did not become ready", file=sys.stderr)
        return 1
    soak.subscriber.start()
    names, weights = list(ACTIONS), list(ACTIONS.values())
    t0 = time.monotonic()
    next_sample = t0
    baseline_at = min(600.0, args.duration / 4)  # after the warm-up: rings filling, caches
    try:
        while time.monotonic() - t0 < args.duration:
            if time.monotonic() >= next_sample:
                soak.sample(time.monotonic() - t0)
                next_sample += 30
                if not soak.memory and time.monotonic() - t0 >= baseline_at:
                    soak.memory.append((time.monotonic() - t0, stack.memory()))
            soak.act(soak.rng.choices(names, weights)[0])
            time.sleep(args.interval)
        soak.sample(time.monotonic() - t0)
        soak.memory.append((time.monotonic() - t0, stack.memory()))  # what grew since baseline
        final = drain(soak, 120)
    finally:
        soak.subscriber.close()
        down = stack.cli("down")
        try:
            up_code: int | None = stack.up.wait(60)
        except subprocess.TimeoutExpired:
            up_code = None
            stack.up.kill()
    from scripts.soak_report import write_report

    ok = write_report(
        soak, stack, final, args, commit, started, down.returncode, up_code, line_chart
    )
    return 0 if ok else 1


def drain(soak: Soak, for_s: float) -> dict[str, dict[str, Any]]:
    """Wait until every submitted execution is completed or failed (as the REST API says)."""
    end = time.monotonic() + for_s
    final: dict[str, dict[str, Any]] = {}
    while time.monotonic() < end:
        for eid in soak.executions:
            if final.get(eid, {}).get("status") in ("completed", "failed"):
                continue
            code, ex = http("GET", f"{soak.stack.api}/executions/{eid}")
            if code == 200:
                final[eid] = ex
        done = [e for e in final.values() if e.get("status") in ("completed", "failed")]
        if len(done) == len(soak.executions) and soak.subscriber.settled(soak.executions):
            break
        time.sleep(0.5)
    return final


if __name__ == "__main__":
    raise SystemExit(main())
