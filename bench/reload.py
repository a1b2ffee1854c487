"""Dev-mode reload: from a file write to the new code answering over HTTP.

    python -m bench.reload [--runs 8]

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
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

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
def ours(warm: bool) -> Callable[[Path, int], list[str]]:
    def command(work: Path, port: int) -> list[str]:
        (work / "autogpt-dev.toml").write_text(
            f'[manager]\nstate_dir = "state"\n[services.app]\n'
            f'command = "{PY} -m uvicorn app:app --port {port}"\n'
            f'ready = {{ http = "http://127.0.0.1:{port}/", interval = 0.02 }}\n'
            + ("" if warm else "warm = false\n")
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


def run_tool(
    tool: str, write: Callable[[Path, int], None], work: Path, runs: int
) -> tuple[list[float], int]:
    """(seconds from each write to the new version answering, extra restarts)."""
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
        if tool == "autogpt-dev warm":  # measured as in use: once the template is built
            wait_for(lambda: template_ready(work, env, "app"), "the template")
        out = []
        for v in range(1, runs + 1):
            t0 = time.monotonic()
            write(work, v)
            wait_for(lambda v=v: get(url) == str(v), f"{tool} serving {v}")  # type: ignore[misc]
            out.append(time.monotonic() - t0)
            time.sleep(0.7)  # nothing else happens: a second restart would show in the count
        starts = len(STARTED.findall(log.read_bytes()))
        return out, starts - (runs + 1)
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


def agent_server(warm: bool, runs: int) -> tuple[list[float], int]:
    """The default stack under our dev mode; agent_server's /health names its pid: the new
    process answering is the new code answering."""
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        shutil.copytree(REPO / "services", work / "services")
        config = (REPO / "autogpt-dev.toml").read_text()
        if not warm:
            config = config.replace(
                'command = "python -m services.agent_server"',
                'command = "python -m services.agent_server"\nwarm = false',
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

        def pid() -> int | None:
            body = get(url)
            return int(json.loads(body)["pid"]) if body else None

        try:
            wait_for(lambda: events.exists() and b'"watching"' in events.read_bytes(), "armed")
            if warm:  # measured as in use: once the template is built
                wait_for(lambda: template_ready(work, env, "agent_server"), "the template")
            else:
                time.sleep(3)
            target = work / "services" / "agent_server.py"
            source = target.read_text()
            out = []
            for i in range(runs):
                before = pid()
                t0 = time.monotonic()
                target.write_text(source + f"\nBENCH_EDIT = {i}\n")
                wait_for(lambda b=before: pid() not in (None, b), "new agent_server")  # type: ignore[misc]
                out.append(time.monotonic() - t0)
                time.sleep(0.7)
            rows = [json.loads(x) for x in events.read_text().splitlines()]
            spawns = sum(r["event"] == "spawn" and r["service"] == "agent_server" for r in rows)
            return out, spawns - (runs + 1)
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


def row(app: str, tool: str, t: list[float], extra: int, best: float | None) -> str:
    med = statistics.median(t)
    ratio = f"{med / best:.2f}x" if best and tool.startswith("autogpt") else "-"
    return f"| {app} | {tool} | {med:.3f} | {min(t):.3f} | {max(t):.3f} | {extra} | {ratio} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reload")
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--apps", nargs="*", default=["heavy", "trivial", "agent_server"])
    args = ap.parse_args(argv)
    print(
        "| app | tool | median s | min s | max s | extra restarts | vs best peer |\n"
        "|---|---|---|---|---|---|---|"
    )
    charts: list[Path] = []
    for app in args.apps:
        if app == "agent_server":
            ours: dict[str, float] = {}
            for warm in (True, False):
                t, extra = agent_server(warm, args.runs)
                name = "autogpt-dev warm" if warm else "autogpt-dev cold (warm = false)"
                print(row("default stack's agent_server", name, t, extra, None), flush=True)
                ours[name] = statistics.median(t)
            title = "reload, the default stack's agent_server"
            charts.append(bar_chart(title, "s", ours, chart(app)))
            continue
        write = {"heavy": heavy, "trivial": trivial}[app]
        results: dict[str, tuple[list[float], int]] = {}
        failed: dict[str, str] = {}
        for tool in TOOLS:
            if available(tool):
                with tempfile.TemporaryDirectory() as d:
                    try:
                        results[tool] = run_tool(tool, write, Path(d), args.runs)
                    except RuntimeError as e:  # a tool that never reloads is a result too
                        failed[tool] = str(e)
        peers = [statistics.median(t) for n, (t, _) in results.items() if "autogpt" not in n]
        best = min(peers) if peers else None
        label = {"heavy": "import-heavy ASGI app", "trivial": "trivial ASGI app"}[app]
        for tool, (t, extra) in results.items():
            print(row(label, tool, t, extra, best), flush=True)
        for tool, why in failed.items():
            print(f"| {label} | {tool} | failed: {why} (60 s) | - | - | - | - |", flush=True)
        medians = {tool: statistics.median(t) for tool, (t, _) in results.items()}
        charts.append(bar_chart(f"reload, {label}: write to new code", "s", medians, chart(app)))
    print()
    for svg in charts:
        print(f"![{svg.stem}]({svg.name})")
    return 0


def chart(app: str) -> Path:
    return Path(__file__).parent / "results" / f"reload-{app}.svg"


if __name__ == "__main__":
    raise SystemExit(main())
