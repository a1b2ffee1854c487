"""The dashboard in a real terminal (tmux), against mprocs (the peer with a TUI) where installed.

    python -m bench.tui [--seconds 20] [--keys 20]

- idle: 6 idle services; the manager's CPU % over the window (from 2 s after all started), again
  over a window that starts past the first minute (a dashboard left open: our uptime column
  counts seconds only in the first minute), and its RSS.
- flood: one service prints 100k lines/s next to a quiet one. The manager's CPU % over the
  window; key-press-to-repaint latency (press the key that selects the quiet service, poll
  `tmux capture-pane` until its marker line is on screen, then select the flood again); peak
  RSS; then quit: seconds from the key to the manager and every child gone, the exit code, and
  (ours) whether the flood's log file is complete: every line from 0 to the last, in order.
Every row shows the ratio to the best peer.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bench import machine

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
PY = sys.executable
SESSION = "autogpt-dev-bench"
QUIET = "QUIET-MARKER"


@dataclass
class Run:
    cpu: float = 0.0
    cpu_settled: float = 0.0  # idle only: a window that starts past the first minute
    rss_mb: float = 0.0
    keys: list[float] = field(default_factory=list)
    quit_s: float | None = None
    exit_code: int | None = None
    log_complete: bool | None = None


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen() -> str:
    return tmux("capture-pane", "-t", SESSION, "-p")


def start(cmd: str, cwd: Path) -> None:
    tmux("kill-session", "-t", SESSION)
    # The exit code goes to a file: tmux shows no exit status once the pane is gone.
    wrapped = f"sh -c '{cmd}; echo $? > {cwd}/exit-code'"
    tmux("new-session", "-d", "-s", SESSION, "-x", "160", "-y", "45", "-c", str(cwd), wrapped)


def manager(cwd: Path, exe: str) -> psutil.Process:
    """The manager process started in `cwd`, by its process name (npm's mprocs is a node shim
    that starts the real binary; ours is the console script)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for p in psutil.process_iter(["name", "cwd", "cmdline"]):
            try:
                if p.info["cwd"] == str(cwd) and p.info["name"] == exe:
                    return p
            except psutil.Error:
                continue
        time.sleep(0.05)
    raise RuntimeError(f"{exe} did not start in {cwd}")


def wait_screen(text: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while text not in screen():
        if time.monotonic() > deadline:
            raise RuntimeError(f"never on screen: {text!r}")
        time.sleep(0.02)


def cpu_and_rss(p: psutil.Process, seconds: float) -> tuple[float, float]:
    c0 = sum(p.cpu_times()[:2])
    peak = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, p.memory_info().rss)
        time.sleep(0.1)
    return (sum(p.cpu_times()[:2]) - c0) / seconds * 100, peak / 2**20


SETTLED = 65.0  # seconds after the start: past the first minute


def settled_cpu(p: psutil.Process, started: float, seconds: float) -> float:
    time.sleep(max(0.0, started + SETTLED - time.monotonic()))
    return cpu_and_rss(p, seconds)[0]


def key_latency(select_quiet: str, select_flood: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        tmux("send-keys", "-t", SESSION, select_quiet)
        while f"started {QUIET}" not in screen():
            if time.monotonic() - t0 > 5:
                raise RuntimeError("the screen never showed the quiet service")
            time.sleep(0.001)
        out.append(time.monotonic() - t0)
        tmux("send-keys", "-t", SESSION, select_flood)
        time.sleep(0.3)
    return out


def quit_and_wait(p: psutil.Process, keys: list[str], cwd: Path) -> tuple[float, int | None]:
    tree = [p, *p.children(recursive=True)]
    t0 = time.monotonic()
    for k in keys:
        tmux("send-keys", "-t", SESSION, k)
        time.sleep(0.05 if len(keys) > 1 else 0)
    deadline = t0 + 30
    while any(_alive(q) for q in tree) and time.monotonic() < deadline:
        time.sleep(0.005)
    took = time.monotonic() - t0
    for q in tree:
        if _alive(q):
            q.kill()
    code_file = cwd / "exit-code"
    deadline = time.monotonic() + 5
    while not code_file.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    code = int(code_file.read_text()) if code_file.exists() else None
    return took, code


def _alive(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def log_complete(path: Path) -> bool:
    """Every 'flood <i>' line from 0 to the last one, in order (the last may be cut by the stop)."""
    numbers = [int(m.group(1)) for m in re.finditer(rb"^flood (\d+) ", path.read_bytes(), re.M)]
    return bool(numbers) and numbers == list(range(len(numbers)))


def services(flood: bool, seconds: float) -> dict[str, list[str]]:
    if flood:
        return {
            "flood": [PY, str(FIXTURES / "rate_flood.py"), "100000", str(seconds + 60)],
            "quiet": [PY, str(FIXTURES / "sleeper.py"), QUIET],
        }
    return {f"s{i}": [PY, str(FIXTURES / "sleeper.py"), f"s{i}"] for i in range(6)}


def ours(work: Path, seconds: float, flood: bool, n_keys: int) -> Run:
    svc = services(flood, seconds)
    toml = "".join(f"[services.{n}]\ncommand = {c!r}\n".replace("'", '"') for n, c in svc.items())
    # Logs unrotated, to check the file is complete (rotation would drop the oldest by design).
    (work / "autogpt-dev.toml").write_text("[manager]\nlog_max_bytes = 1_000_000_000\n" + toml)
    started = time.monotonic()
    start(f"{Path(PY).parent / 'autogpt-dev'} up", work)
    p = manager(work, "autogpt-dev")
    wait_screen("ready", 30)
    time.sleep(2)  # past the start-up work
    run = Run()
    run.cpu, run.rss_mb = cpu_and_rss(p, seconds)
    if not flood:
        run.cpu_settled = settled_cpu(p, started, seconds)
    if flood:
        run.keys = key_latency("2", "1", n_keys)
    run.quit_s, run.exit_code = quit_and_wait(p, ["q"], work)
    if flood:
        run.log_complete = log_complete(work / ".autogpt-dev" / "logs" / "flood.log")
    return run


def mprocs(work: Path, seconds: float, flood: bool, n_keys: int) -> Run:
    svc = services(flood, seconds)
    (work / "mprocs.yaml").write_text(
        "procs:\n" + "".join(f"  {n}:\n    cmd: {c!r}\n" for n, c in svc.items())
    )
    started = time.monotonic()
    start("mprocs --config mprocs.yaml", work)
    p = manager(work, "mprocs")
    wait_screen("s0" if not flood else "flood", 30)
    time.sleep(2)
    run = Run()
    run.cpu, run.rss_mb = cpu_and_rss(p, seconds)
    if not flood:
        run.cpu_settled = settled_cpu(p, started, seconds)
    if flood:
        run.keys = key_latency("j", "k", n_keys)
    run.quit_s, run.exit_code = quit_and_wait(p, ["q", "y"], work)  # mprocs asks to confirm
    return run


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, int(len(values) * q + 0.5) - 1)]


def ratio(ours_value: float, peer: float | None) -> str:
    if peer is None:
        return "no peer"
    if peer == 0:
        return "peer 0"
    return f"{ours_value / peer:.2f}x"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.tui")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--keys", type=int, default=20)
    args = ap.parse_args(argv)
    tools = {"autogpt-dev": ours}
    if shutil.which("mprocs"):
        tools["mprocs"] = mprocs
    results: dict[tuple[str, bool], Run] = {}
    for flood in (False, True):
        for name, fn in tools.items():
            with tempfile.TemporaryDirectory() as d:
                results[name, flood] = fn(Path(d).resolve(), args.seconds, flood, args.keys)
    tmux("kill-session", "-t", SESSION)

    rows: list[tuple[str, str, float, str]] = []  # (what, tool, value, unit)
    for name in tools:
        idle, busy = results[name, False], results[name, True]
        rows += [
            ("idle, 6 services: CPU %", name, idle.cpu, "%"),
            ("idle, 6 services, past the first minute: CPU %", name, idle.cpu_settled, "%"),
            ("idle, 6 services: RSS MB", name, idle.rss_mb, "MB"),
            ("100k lines/s: CPU %", name, busy.cpu, "%"),
            ("100k lines/s: key to repaint p50 ms", name, statistics.median(busy.keys) * 1e3, "ms"),
            ("100k lines/s: key to repaint p90 ms", name, pct(busy.keys, 0.9) * 1e3, "ms"),
            ("100k lines/s: peak RSS MB", name, busy.rss_mb, "MB"),
            ("100k lines/s: quit to all gone s", name, busy.quit_s or 0.0, "s"),
        ]
    print("| what | tool | value | vs best peer |\n|---|---|---|---|")
    for what in dict.fromkeys(r[0] for r in rows):
        peers = [v for w, t, v, _ in rows if w == what and t != "autogpt-dev"]
        best = min(peers) if peers else None
        for w, t, v, _ in rows:
            if w == what:
                print(f"| {w} | {t} | {v:.2f} | {ratio(v, best) if t == 'autogpt-dev' else '-'} |")
    for name in tools:
        busy = results[name, True]
        extra = f", log file complete: {busy.log_complete}" if busy.log_complete is not None else ""
        print(f"\n{name}: exit code after quit under the flood: {busy.exit_code}{extra}")
    return 0


if __name__ == "__main__":
    with machine.alone("python -m bench.tui"):
        raise SystemExit(main())
