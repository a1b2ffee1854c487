"""Dev-mode reload latency: file write -> the service answers with the new code.

    python -m bench.reload [--runs 10]

The same minimal ASGI app, run by uvicorn, twice:
- under `autogpt-dev up --headless --dev` (uvicorn without --reload; our watcher restarts it);
- by `uvicorn --reload` alone, for comparison.
Plus the default stack's agent_server (a copy of services/ in a temp dir) under our dev mode,
timed from the write to `ready` in events.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from services.settings import free_port, isolated_env

REPO = Path(__file__).resolve().parents[1]
APP = """
VERSION = {v}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": str(VERSION).encode()}})
"""


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return str(r.read().decode())
    except OSError:
        return None


def wait_for(url: str, want: str, timeout: float = 30) -> float:
    t0 = time.monotonic()
    while get(url) != want:
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{url} never answered {want}")
        time.sleep(0.005)
    return time.monotonic() - t0


def edit_and_time(work: Path, port: int, runs: int) -> list[float]:
    """Once the app answers, rewrite app.py `runs` times; each time, seconds until the new
    version answers (whoever does the reloading)."""
    url = f"http://127.0.0.1:{port}/"
    wait_for(url, "0")
    time.sleep(1.0)  # let the watcher arm
    out = []
    for v in range(1, runs + 1):
        t0 = time.monotonic()
        (work / "app.py").write_text(APP.format(v=v))
        wait_for(url, str(v))
        out.append(time.monotonic() - t0)
        time.sleep(0.5)
    return out


def measure(argv: list[str], work: Path, port: int, runs: int) -> list[float]:
    (work / "app.py").write_text(APP.format(v=0))
    proc = subprocess.Popen(
        argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        return edit_and_time(work, port, runs)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(20)


def ours(work: Path, runs: int) -> list[float]:
    port = free_port()
    (work / "autogpt-dev.toml").write_text(
        f'[services.app]\ncommand = "{sys.executable} -m uvicorn app:app --port {port}"\n'
        f'ready = {{ http = "http://127.0.0.1:{port}/", interval = 0.02 }}\n'
    )
    return measure(
        [sys.executable, "-m", "tui_manager", "up", "--headless", "--dev"], work, port, runs
    )


def uvicorn_reload(work: Path, runs: int) -> list[float]:
    port = free_port()
    return measure(
        [sys.executable, "-m", "uvicorn", "app:app", "--reload", "--port", str(port)],
        work,
        port,
        runs,
    )


def pm2_watch(work: Path, runs: int) -> list[float]:
    """pm2 --watch restarting the same uvicorn app (its own daemon, PM2_HOME in work)."""
    port = free_port()
    (work / "app.py").write_text(APP.format(v=0))
    env = {**os.environ, "PM2_HOME": str(work / ".pm2")}
    start = [
        "pm2",
        "start",
        sys.executable,
        "--name",
        "app",
        "--watch",
        "--cwd",
        str(work),
        "--",
        "-m",
        "uvicorn",
        "app:app",
        "--port",
        str(port),
    ]
    subprocess.run(start, env=env, check=True, capture_output=True, cwd=work)
    try:
        return edit_and_time(work, port, runs)
    finally:
        subprocess.run(["pm2", "kill"], env=env, capture_output=True)


def agent_server(work: Path, runs: int) -> list[float]:
    shutil.copytree(REPO / "services", work / "services")
    shutil.copy(REPO / "autogpt-dev.toml", work)
    env = {**os.environ, **isolated_env(work / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui_manager", "up", "--headless", "--dev"],
        cwd=work,
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    events = work / "state" / "logs" / "events.jsonl"

    def rows() -> list[dict[str, object]]:
        return [json.loads(x) for x in events.read_text().splitlines()] if events.exists() else []

    try:
        deadline = time.monotonic() + 30
        while not any(r["event"] == "watching" for r in rows()):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1)
        out = []
        target = work / "services" / "agent_server.py"
        for i in range(runs):
            seen = len(rows())
            t0 = time.time()
            target.write_text(target.read_text() + f"\n# edit {i}\n")
            while not any(
                r["event"] == "ready" and r["service"] == "agent_server" for r in rows()[seen:]
            ):
                time.sleep(0.005)
            new = rows()[seen:]
            ready = next(
                r["ts"] for r in new if r["event"] == "ready" and r["service"] == "agent_server"
            )
            noticed = next(r["ts"] for r in new if r["event"] == "reload")
            out.append(float(ready) - t0)  # type: ignore[arg-type]
            WATCHER.append(float(noticed) - t0)  # type: ignore[arg-type]
            time.sleep(0.5)
        return out
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)


WATCHER: list[float] = []  # write -> our `reload` event: the watcher's own share


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reload")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    print("| what | median | min | max |\n|---|---|---|---|")
    for name, fn in [
        ("autogpt-dev --dev, trivial uvicorn app", ours),
        ("uvicorn --reload, same app", uvicorn_reload),
        *([("pm2 --watch, same app", pm2_watch)] if shutil.which("pm2") else []),
        ("autogpt-dev --dev, default stack's agent_server", agent_server),
    ]:
        with tempfile.TemporaryDirectory() as d:
            t = fn(Path(d), args.runs)
        print(
            f"| {name} | {statistics.median(t):.3f}s | {min(t):.3f}s | {max(t):.3f}s |", flush=True
        )
    w = WATCHER
    print(
        f"| of which our watcher (write -> reload event) | {statistics.median(w):.3f}s | "
        f"{min(w):.3f}s | {max(w):.3f}s |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
