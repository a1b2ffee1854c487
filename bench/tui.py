"""The dashboard in a real terminal (tmux): idle cost, and cost plus key latency under a flood.

    python -m bench.tui [--seconds 30]

- idle: `autogpt-dev up` with 6 idle services; CPU % of the manager process over the window.
- flood: one service prints 100k lines/s; the manager's CPU % over the window, and the
  key-press-to-repaint latency: press the key that selects the quiet service and poll
  `tmux capture-pane` until its marker line is on screen (then select the flood again).
  The same flood through mprocs (when installed), with its `j`/`k` selection.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
PY = sys.executable
SESSION = "autogpt-dev-bench"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p")


def start(cmd: str, cwd: Path) -> None:
    tmux("kill-session", "-t", SESSION)
    tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "45", "-c", str(cwd), cmd)


def manager_pid(name: str, exe: str | None = None) -> int:
    """The manager's pid; `exe`: the process's own name (npm's mprocs is a node shim)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for p in psutil.process_iter(["cmdline", "name"]):
            cmd = " ".join(p.info["cmdline"] or [])
            if name in cmd and "tmux" not in cmd and (exe is None or p.info["name"] == exe):
                return p.pid
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


def cpu_percent(pid: int, seconds: float) -> float:
    p = psutil.Process(pid)
    c0 = sum(p.cpu_times()[:2])
    time.sleep(seconds)
    return (sum(p.cpu_times()[:2]) - c0) / seconds * 100


def key_latency(select_quiet: str, select_flood: str, marker: str, n: int = 10) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        tmux("send-keys", "-t", SESSION, select_quiet)
        while marker not in screen():
            if time.monotonic() - t0 > 5:
                raise RuntimeError("the screen never showed the quiet service")
            time.sleep(0.002)
        out.append(time.monotonic() - t0)
        tmux("send-keys", "-t", SESSION, select_flood)
        time.sleep(0.3)
    return out


def ours(work: Path, seconds: float, flood: bool) -> tuple[float, list[float]]:
    services = {f"s{i}": [PY, str(FIXTURES / "sleeper.py"), f"s{i}"] for i in range(6)}
    if flood:
        services = {
            "flood": [PY, str(FIXTURES / "rate_flood.py"), "100000", str(seconds + 30)],
            "quiet": [PY, str(FIXTURES / "sleeper.py"), "QUIET-MARKER"],
        }
    toml = "".join(
        f"[services.{n}]\ncommand = {c!r}\n".replace("'", '"') for n, c in services.items()
    )
    (work / "autogpt-dev.toml").write_text(toml + '[services.fg]\ncommand = "sleep 1000"\n')
    start(f"{PY} -m tui_manager up", work)
    pid = manager_pid("tui_manager up")
    time.sleep(3)
    cpu = cpu_percent(pid, seconds)
    lat = key_latency("2", "1", "started QUIET-MARKER") if flood else []
    tmux("send-keys", "-t", SESSION, "q")
    time.sleep(2)
    return cpu, lat


def mprocs(work: Path, seconds: float) -> tuple[float, list[float]]:
    (work / "mprocs.yaml").write_text(
        "procs:\n"
        f"  flood:\n    cmd: ['{PY}', '{FIXTURES / 'rate_flood.py'}', '100000', '{seconds + 30}']\n"
        f"  quiet:\n    cmd: ['{PY}', '{FIXTURES / 'sleeper.py'}', 'QUIET-MARKER']\n"
    )
    start("mprocs --config mprocs.yaml", work)
    pid = manager_pid("mprocs", exe="mprocs")
    time.sleep(3)
    cpu = cpu_percent(pid, seconds)
    lat = key_latency("j", "k", "started QUIET-MARKER")
    tmux("send-keys", "-t", SESSION, "q")
    time.sleep(0.5)
    tmux("send-keys", "-t", SESSION, "y")
    time.sleep(1)
    return cpu, lat


def main() -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.tui")
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    print("| what | manager CPU % | key -> repaint p50 | p90 |\n|---|---|---|---|")
    runs = [
        ("autogpt-dev dashboard, 6 idle services", lambda w: ours(w, args.seconds, False)),
        ("autogpt-dev dashboard, 100k lines/s", lambda w: ours(w, args.seconds, True)),
    ]
    if shutil.which("mprocs"):
        runs.append(("mprocs, 100k lines/s", lambda w: mprocs(w, args.seconds)))
    for name, fn in runs:
        with tempfile.TemporaryDirectory() as d:
            cpu, lat = fn(Path(d))
        lat.sort()
        p50 = f"{statistics.median(lat) * 1000:.0f} ms" if lat else "-"
        p90 = f"{lat[int(len(lat) * 0.9) - 1] * 1000:.0f} ms" if lat else "-"
        print(f"| {name} | {cpu:.1f} | {p50} | {p90} |", flush=True)
    tmux("kill-session", "-t", SESSION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
