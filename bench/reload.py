"""Dev-mode reload: from a file write to the new code answering over HTTP, with a client
sending requests back to back the whole time (a new connection each, as a polling browser tab
or a dev-server proxy does), counting every request that failed.

    python -m bench.reload [--runs 10]

Apps: a trivial ASGI app; an import-heavy one (bench/heavy_app: FastAPI, SQLAlchemy, pandas,
pydantic-settings, boto3; over a second to import cold); and the default stack's agent_server.
Tools: ours warm (the default in dev mode), ours cold (`warm = false`), `uvicorn --reload`,
hupper, the watchfiles CLI and `pm2 --watch`, where installed. Every edit changes code (a
comment would restart nothing here). Extra restarts: process starts beyond one per edit.
Needs: pip install uvicorn hupper fastapi sqlalchemy pandas pydantic-settings boto3 httpx
jinja2 email-validator; npm install -g pm2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from bench import machine
from bench.plot import bar_chart
from services.settings import free_port, isolated_env

REPO = Path(__file__).resolve().parents[1]
HEAVY = Path(__file__).resolve().parent / "heavy_app"
PY = sys.executable
STARTED = re.compile(rb"Started server process")
TRIVIAL = """
VERSION = {v}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": str(VERSION).encode()}})
"""


class Requests:
    """GET requests back to back in a thread: every answer, and every failure (refused,
    reset, closed without an answer, timed out)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = 0
        self.failed: list[str] = []
        self.last: tuple[float, str] | None = None  # (when, body) of the newest answer
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sent += 1
            try:
                with urllib.request.urlopen(self.url, timeout=10) as r:
                    self.last = (time.monotonic(), r.read().decode())
            except OSError as e:
                self.failed.append(type(e).__name__ + ": " + str(e)[:80])

    def until(self, check: Callable[[str], bool], what: str, timeout: float = 60) -> float:
        """When the first answer that passes `check` came (monotonic seconds)."""
        t0 = time.monotonic()
        while not (self.last and check(self.last[1])):
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"timed out: {what}")
            time.sleep(0.001)
        return self.last[0]

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)


def get(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return str(r.read().decode())
    except OSError:
        return None


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> float:
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"timed out: {what}")
        time.sleep(0.003)
    return time.monotonic() - t0


# ---- apps: write version v ----------------------------------------------------------------------
def trivial(work: Path, v: int) -> None:
    (work / "app.py").write_text(TRIVIAL.format(v=v))


def heavy(work: Path, v: int) -> None:
    if not (work / "models.py").exists():
        for f in HEAVY.glob("*.py"):
            shutil.copy(f, work)
    text = (work / "app.py").read_text()
    (work / "app.py").write_text(re.sub(r"^VERSION = \d+$", f"VERSION = {v}", text, flags=re.M))


# ---- tools: the command that serves app:app on a port, reloading on change ---------------------
def ours(warm: bool, overlap: bool = False) -> Callable[[Path, int], list[str]]:
    """Ours, as a user writes it: the server's own command line. Dev mode holds its port
    (uvicorn --port) by itself; `overlap` needs the socket named (listen)."""

    def command(work: Path, port: int) -> list[str]:
        (work / "autogpt-dev.toml").write_text(
            f'[manager]\nstate_dir = "state"\n[services.app]\n'
            f'command = "{PY} -m uvicorn app:app --port {port}"\n'
            f'ready = {{ http = "http://127.0.0.1:{port}/", interval = 0.02 }}\n'
            + ("" if warm else "warm = false\n")
            + (f'listen = ["127.0.0.1:{port}"]\noverlap = true\n' if overlap else "")
        )
        return [PY, "-m", "tui_manager", "up", "--headless", "--dev"]

    return command


def uvicorn_reload(work: Path, port: int) -> list[str]:
    return [PY, "-m", "uvicorn", "app:app", "--reload", "--port", str(port)]


def hupper(work: Path, port: int) -> list[str]:
    return [str(Path(PY).parent / "hupper"), "-m", "uvicorn", "app:app", "--port", str(port)]


def watchfiles_cli(work: Path, port: int) -> list[str]:
    cmd = f"{PY} -m uvicorn app:app --port {port}"
    # --filter python, as its help suggests for Python code: the default filter would also
    # see the log file the bench writes its output to, and restart on every line.
    return [str(Path(PY).parent / "watchfiles"), "--filter", "python", cmd, str(work)]


def pm2(work: Path, port: int) -> list[str]:
    return ["pm2"]  # started specially (a daemon): see run_tool


TOOLS: dict[str, Callable[[Path, int], list[str]]] = {
    "autogpt-dev warm": ours(True),
    "autogpt-dev warm, overlap": ours(True, overlap=True),
    "autogpt-dev cold (warm = false)": ours(False),
    "uvicorn --reload": uvicorn_reload,
    "hupper": hupper,
    "watchfiles CLI": watchfiles_cli,
    "pm2 --watch": pm2,
}


def available(name: str) -> bool:
    exe = {"hupper": "hupper", "watchfiles CLI": "watchfiles"}.get(name)
    if name == "pm2 --watch":
        return shutil.which("pm2") is not None
    if name.startswith("uvicorn") or name.startswith("autogpt"):
        return subprocess.run([PY, "-c", "import uvicorn"], capture_output=True).returncode == 0
    return exe is not None and (Path(PY).parent / exe).exists()


class Result(NamedTuple):
    seconds: list[float]  # from each write to the new version answering
    extra: int  # restarts beyond one per edit
    failed: int  # requests that failed while the client sent them back to back
    sent: int


def run_tool(tool: str, write: Callable[[Path, int], None], work: Path, runs: int) -> Result:
    port = free_port()
    write(work, 0)
    log = work / "out.log"
    env = {**os.environ, "PM2_HOME": str(work / ".pm2")}
    if tool == "pm2 --watch":
        subprocess.run(
            ["pm2", "start", PY, "--name", "app", "--watch", "--cwd", str(work),
             "--output", str(log), "--error", str(log), "--ignore-watch", ".pm2 state out.log",
             "--", "-m", "uvicorn", "app:app", "--port", str(port)],
            env=env, check=True, capture_output=True, cwd=work,
        )  # fmt: skip
        proc = None
    else:
        proc = subprocess.Popen(
            TOOLS[tool](work, port),
            cwd=work,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_for(lambda: get(url) == "0", f"{tool} serving")
        time.sleep(1.5)  # every tool's watcher armed
        if tool.startswith("autogpt-dev warm"):  # measured as in use: once the template is built
            wait_for(lambda: template_ready(work, env, "app"), "the template")
        client = Requests(url)
        out = []
        try:
            for v in range(1, runs + 1):
                t0 = time.monotonic()
                write(work, v)
                out.append(client.until(lambda body, v=v: body == str(v), f"{tool} {v}") - t0)  # type: ignore[misc]
                time.sleep(0.7)  # nothing else happens: a second restart would show in the count
        finally:
            client.stop()
        starts = len(STARTED.findall(log.read_bytes()))
        return Result(out, starts - (runs + 1), len(client.failed), client.sent)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        else:
            subprocess.run(["pm2", "kill"], env=env, capture_output=True)


def agent_server(warm: bool, runs: int, overlap: bool = False) -> Result:
    """The default stack under our dev mode; agent_server's /health names its pid: the new
    process answering is the new code answering."""
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        shutil.copytree(REPO / "services", work / "services")
        config = (REPO / "autogpt-dev.toml").read_text()
        extra = ("" if warm else "\nwarm = false") + ("\noverlap = true" if overlap else "")
        config = config.replace(
            'command = "python -m services.agent_server"',
            f'command = "python -m services.agent_server"{extra}',
        )
        (work / "autogpt-dev.toml").write_text(config)
        env = {**os.environ, **isolated_env(work / "state")}
        url = f"http://127.0.0.1:{env['AGENT_SERVER_PORT']}/health"
        proc = subprocess.Popen(
            [PY, "-m", "tui_manager", "up", "--headless", "--dev"],
            cwd=work,
            env=env,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        events = work / "state" / "logs" / "events.jsonl"

        def pid(body: str) -> int:
            return int(json.loads(body)["pid"])

        try:
            wait_for(lambda: events.exists() and b'"watching"' in events.read_bytes(), "armed")
            if warm:  # measured as in use: once the template is built
                wait_for(lambda: template_ready(work, env, "agent_server"), "the template")
            else:
                time.sleep(3)
            target = work / "services" / "agent_server.py"
            source = target.read_text()
            client = Requests(url)
            out = []
            try:
                client.until(lambda body: True, "agent_server answering")
                for i in range(runs):
                    assert client.last is not None
                    before = pid(client.last[1])
                    t0 = time.monotonic()
                    target.write_text(source + f"\nBENCH_EDIT = {i}\n")
                    new = client.until(lambda body, b=before: pid(body) != b, "new agent_server")  # type: ignore[misc]
                    out.append(new - t0)
                    time.sleep(0.7)
            finally:
                client.stop()
            rows = [json.loads(x) for x in events.read_text().splitlines()]
            spawns = sum(r["event"] == "spawn" and r["service"] == "agent_server" for r in rows)
            return Result(out, spawns - (runs + 1), len(client.failed), client.sent)
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(30)


def template_ready(work: Path, env: dict[str, str], service: str) -> bool:
    answer = subprocess.run(
        [PY, "-m", "tui_manager", "status", "--json"], cwd=work, env=env, capture_output=True
    )
    if answer.returncode:
        return False
    rows = {s["name"]: s for s in json.loads(answer.stdout)["services"]}
    return bool((rows[service].get("warm") or {}).get("state") == "ready")


def row(app: str, tool: str, r: Result, best: float | None) -> str:
    t = r.seconds
    med = statistics.median(t)
    ratio = f"{med / best:.2f}x" if best and tool.startswith("autogpt") else "-"
    return (
        f"| {app} | {tool} | {med:.3f} | {min(t):.3f} | {max(t):.3f} | {r.extra} "
        f"| {r.failed} of {r.sent} | {ratio} |"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reload")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--apps", nargs="*", default=["heavy", "trivial", "agent_server"])
    ap.add_argument("--charts", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args(argv)
    with machine.alone("python -m bench.reload"):
        return measure(args)


def measure(args: argparse.Namespace) -> int:
    print(
        "| app | tool | median s | min s | max s | extra restarts | requests failed "
        "| vs best peer |\n|---|---|---|---|---|---|---|---|"
    )
    charts: list[Path] = []
    for app in args.apps:
        if app == "agent_server":
            ours: dict[str, float] = {}
            variants = [
                ("autogpt-dev warm", True, False),
                ("autogpt-dev warm, overlap", True, True),
                ("autogpt-dev cold (warm = false)", False, False),
            ]
            for name, warm, overlap in variants:
                r = agent_server(warm, args.runs, overlap)
                print(row("default stack's agent_server", name, r, None), flush=True)
                ours[name] = statistics.median(r.seconds)
            title = "reload, the default stack's agent_server"
            charts.append(bar_chart(title, "s", ours, args.charts / f"reload-{app}.svg"))
            continue
        write = {"heavy": heavy, "trivial": trivial}[app]
        results: dict[str, Result] = {}
        failed: dict[str, str] = {}
        for tool in TOOLS:
            if available(tool):
                with tempfile.TemporaryDirectory() as d:
                    try:
                        results[tool] = run_tool(tool, write, Path(d), args.runs)
                    except RuntimeError as e:  # a tool that never reloads is a result too
                        failed[tool] = str(e)
        peers = [statistics.median(r.seconds) for n, r in results.items() if "autogpt" not in n]
        best = min(peers) if peers else None
        label = {"heavy": "import-heavy ASGI app", "trivial": "trivial ASGI app"}[app]
        for tool, r in results.items():
            print(row(label, tool, r, best), flush=True)
        for tool, why in failed.items():
            print(f"| {label} | {tool} | failed: {why} (60 s) | - | - | - | - | - |", flush=True)
        medians = {tool: statistics.median(r.seconds) for tool, r in results.items()}
        chart = args.charts / f"reload-{app}.svg"
        charts.append(bar_chart(f"reload, {label}: write to new code", "s", medians, chart))
    print()
    for svg in charts:
        print(f"![{svg.stem}]({svg.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
