"""Chaos soak of the default stack: random restarts, kills and log floods, for --duration seconds.

    python scripts/soak.py --duration 3600 [--report soak.md]

Every few seconds one of: `autogpt-dev restart <svc>`, `kill -9 <svc's pid>`, a burst of agent
executions, or a log flood (a request storm on agent_server). Once a minute the manager's open
fds, threads and RSS are sampled. At the end: `down`, and two checks, that every `restart` in
events.jsonl is followed by a spawn with a new pid, and that no process of the run is left.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from services.settings import SERVICES, isolated_env  # noqa: E402


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui_manager", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def post(url: str, body: object) -> None:
    req = urllib.request.Request(url, json.dumps(body).encode(), method="POST")
    with contextlib.suppress(OSError):  # a service may be restarting: that is the point
        urllib.request.urlopen(req, timeout=5).read()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=3600)
    ap.add_argument("--interval", type=float, default=3)
    ap.add_argument("--report", type=Path, default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="autogpt-dev-soak-"))
    env = {**os.environ, **isolated_env(tmp / "state"), "AUTOGPT_DEV_LOG_MAX_BYTES": "2000000"}
    ports = {s: int(env[f"{s.upper()}_PORT"]) for s in SERVICES}
    up = subprocess.Popen(
        [sys.executable, "-m", "tui_manager", "up", "--headless"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    manager = psutil.Process(up.pid)
    api = f"http://127.0.0.1:{ports['agent_server']}"
    time.sleep(3)
    samples: list[tuple[float, int, int, float]] = []
    actions: dict[str, int] = {}
    t0 = time.monotonic()
    next_sample = t0
    agent = {
        "name": "soak",
        "nodes": [
            {"id": "a", "type": "text", "config": {"text": "x"}},
            {"id": "b", "type": "uppercase", "inputs": ["a"]},
        ],
    }
    try:
        while time.monotonic() - t0 < args.duration:
            if time.monotonic() >= next_sample:
                samples.append(
                    (
                        time.monotonic() - t0,
                        manager.num_fds(),
                        manager.num_threads(),
                        manager.memory_info().rss / 2**20,
                    )
                )
                next_sample += 60
            action = random.choice(["restart", "kill", "executions", "flood"])
            actions[action] = actions.get(action, 0) + 1
            target = random.choice(SERVICES)
            if action == "restart":
                cli("restart", target, "--no-wait", env=env)
            elif action == "kill":
                status = json.loads(cli("status", "--json", env=env).stdout)
                pid = next(s["pid"] for s in status["services"] if s["name"] == target)
                if pid and target != "execution_manager":  # the foreground's death ends the run
                    os.kill(pid, signal.SIGKILL)
            elif action == "executions":
                post(f"{api}/agents", agent)
            else:
                for _ in range(200):
                    post(f"{api}/echo", {})
            time.sleep(args.interval)
        samples.append(
            (
                time.monotonic() - t0,
                manager.num_fds(),
                manager.num_threads(),
                manager.memory_info().rss / 2**20,
            )
        )
    finally:
        down = cli("down", env=env)
        up.wait(60)
    events = [json.loads(x) for x in (tmp / "state/logs/events.jsonl").read_text().splitlines()]
    last_pid: dict[str, int] = {}
    unmatched = 0
    pending: dict[str, int] = {}
    for e in events:
        if e["event"] == "spawn":
            if e["service"] in pending and e["pid"] == pending.pop(e["service"]):
                unmatched += 1
            last_pid[e["service"]] = e["pid"]
        elif e["event"] == "restart":
            pending[e["service"]] = last_pid.get(e["service"], -1)
    leftovers = [
        p.pid
        for p in psutil.process_iter(["environ"])
        if any(
            k == "AUTOGPT_DEV_STATE_DIR" and v == str(tmp / "state")
            for k, v in (p.info["environ"] or {}).items()
        )
    ]
    restarts = sum(e["event"] == "restart" for e in events)
    lines = [
        f"# soak: {args.duration:.0f} s of the default stack",
        "",
        f"actions: {actions}; restarts in events.jsonl: {restarts}, "
        f"without a new pid: {unmatched}; `down` exit {down.returncode}, `up` exit "
        f"{up.returncode}; processes left: {len(leftovers)}",
        "",
        "| t (s) | open fds | threads | RSS MB |",
        "|---|---|---|---|",
        *(f"| {t:.0f} | {fds} | {th} | {rss:.1f} |" for t, fds, th, rss in samples),
    ]
    text = "\n".join(lines)
    print(text)
    if args.report:
        args.report.write_text(text + "\n")
    return 0 if not unmatched and not leftovers and up.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
