"""Fixed costs: how long a command takes, end to end, as a user's shell sees it.

    python -m bench.commands [--runs 20]

Rows: `up` of one service that exits at once (the whole start-up and shutdown), `status` and
`logs -n 10` against a running stack, and `check` of a 6-service config; each next to the same
action in every peer that has it, and two floors (`python -c pass`, `python -c "import
asyncio"`: the interpreter, and the event loop every asyncio tool imports). Runs are interleaved
(one of each, then again) so the machine's noise falls on every tool alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from bench import machine

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
PY = sys.executable
OURS = str(Path(PY).parent / "autogpt-dev")  # the console script, as a user runs it
SLEEPER = f"{PY} {FIXTURES / 'sleeper.py'}"
EDITED = "up of one `true` service, config just edited"


def which(name: str) -> str | None:
    # The venv's bin first (honcho, supervisord installed with pip), then PATH (npm's tools).
    here = Path(PY).parent / name
    return str(here) if here.exists() else shutil.which(name)


def wait_for(cond: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out: {what}")


@contextmanager
def stacks(work: Path) -> Iterator[dict[str, dict[str, list[str]]]]:
    """Every row's command per tool, with the long-running stacks they talk to started."""
    one = work / "one"
    one.mkdir()
    (one / "autogpt-dev.toml").write_text('[services.t]\ncommand = "true"\n')
    (one / "Procfile").write_text("t: true\n")
    six = work / "six"
    six.mkdir()
    names = ["db", "scheduler", "notify", "ws", "rest", "executor"]
    (six / "autogpt-dev.toml").write_text(
        "".join(
            f'[services.{n}]\ncommand = "{SLEEPER} {n}"\n'
            + (f'depends_on = ["{names[i - 1]}"]\n' if i else "")
            for i, n in enumerate(names)
        )
    )
    (six / "Procfile").write_text("".join(f"{n}: {SLEEPER} {n}\n" for n in names))
    edited = work / "edited"  # changed before every run: our validation cache never helps
    edited.mkdir()
    (edited / "autogpt-dev.toml").write_text('[services.t]\ncommand = "true"\n')
    (edited / "Procfile").write_text("t: true\n")
    running = work / "running"
    running.mkdir()
    (running / "autogpt-dev.toml").write_text(f'[services.fg]\ncommand = "{SLEEPER} fg"\n')

    rows: dict[str, dict[str, list[str]]] = {
        "python -c pass (floor)": {"python": [PY, "-c", "pass"]},
        "python -c 'import asyncio' (floor)": {"python": [PY, "-c", "import asyncio"]},
        "up of one `true` service, to exit": {
            "autogpt-dev": [OURS, "up", "--headless", "-c", str(one / "autogpt-dev.toml")]
        },
        EDITED: {"autogpt-dev": [OURS, "up", "--headless", "-c", str(edited / "autogpt-dev.toml")]},
        "status of a running stack": {
            "autogpt-dev": [OURS, "status", "-c", str(running / "autogpt-dev.toml")]
        },
        "logs -n 10 of a running service": {
            "autogpt-dev": [OURS, "logs", "fg", "-n", "10", "-c", str(running / "autogpt-dev.toml")]
        },
        "check of a 6-service config": {
            "autogpt-dev": [OURS, "check", "-c", str(six / "autogpt-dev.toml")]
        },
    }
    procs: list[subprocess.Popen[bytes]] = []
    pm2 = which("pm2")
    try:
        procs.append(
            subprocess.Popen(
                [OURS, "up", "--headless", "-c", str(running / "autogpt-dev.toml")],
                cwd=running,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        if honcho := which("honcho"):
            rows["up of one `true` service, to exit"]["honcho"] = [
                honcho,
                "start",
                "-f",
                str(one / "Procfile"),
            ]
            rows[EDITED]["honcho"] = [honcho, "start", "-f", str(edited / "Procfile")]
            rows["check of a 6-service config"]["honcho"] = [
                honcho,
                "check",
                "-f",
                str(six / "Procfile"),
            ]
        if concurrently := which("concurrently"):
            rows["up of one `true` service, to exit"]["concurrently"] = [concurrently, "true"]
            rows[EDITED]["concurrently"] = [concurrently, "true"]
        if (supervisord := which("supervisord")) and (ctl := which("supervisorctl")):
            conf = running / "supervisord.conf"
            conf.write_text(
                f"[supervisord]\nnodaemon=true\nlogfile={running}/supervisord.log\n"
                f"pidfile={running}/supervisord.pid\n"
                f"[unix_http_server]\nfile={running}/supervisor.sock\n"
                "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = "
                "supervisor.rpcinterface:make_main_rpcinterface\n"
                f"[supervisorctl]\nserverurl=unix://{running}/supervisor.sock\n"
                f"[program:fg]\ncommand={SLEEPER} fg\nstdout_logfile={running}/fg.out\n"
            )
            procs.append(  # its own log lines stay out of our tables
                subprocess.Popen(
                    [supervisord, "-c", str(conf)],
                    cwd=running,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            status = [ctl, "-c", str(conf), "status"]
            wait_for(
                lambda: b"RUNNING" in subprocess.run(status, capture_output=True).stdout,
                "supervisord up",
            )
            rows["status of a running stack"]["supervisorctl"] = status
            rows["logs -n 10 of a running service"]["supervisorctl"] = [
                ctl,
                "-c",
                str(conf),
                "tail",
                "fg",
            ]
        if pm2:
            subprocess.run(
                [pm2, "start", "--name", "fg", "--interpreter", PY, str(FIXTURES / "sleeper.py")],
                capture_output=True,
                check=True,
            )
            rows["status of a running stack"]["pm2"] = [pm2, "jlist"]
            rows["logs -n 10 of a running service"]["pm2"] = [
                pm2,
                "logs",
                "fg",
                "--nostream",
                "--lines",
                "10",
            ]
        wait_for(
            lambda: (
                b"ready"
                in subprocess.run(
                    rows["status of a running stack"]["autogpt-dev"], capture_output=True
                ).stdout
            ),
            "our stack ready",
        )
        yield rows
    finally:
        if pm2:
            subprocess.run([pm2, "kill"], capture_output=True)
        for p in procs:
            p.send_signal(signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                p.wait(15)
            if p.poll() is None:
                p.kill()


def touch_configs(argv: list[str]) -> None:
    """Edit the config a command reads (a new value, so ours validates it anew): the run after
    a developer's edit."""
    for arg in argv:
        path = Path(arg)
        if path.parent.name != "edited":
            continue
        if path.name == "autogpt-dev.toml":
            env = f'env = {{ EDIT = "{time.monotonic_ns()}" }}\n'
            path.write_text('[services.t]\ncommand = "true"\n' + env)
        elif path.name == "Procfile":
            path.write_text(f"t: EDIT={time.monotonic_ns()} true\n")


def measure(rows: dict[str, dict[str, list[str]]], runs: int) -> dict[str, dict[str, list[float]]]:
    times: dict[str, dict[str, list[float]]] = {
        r: {t: [] for t in tools} for r, tools in rows.items()
    }
    for _ in range(runs):
        for row, tools in rows.items():
            for tool, argv in tools.items():
                touch_configs(argv)
                t0 = time.perf_counter()
                r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                took = time.perf_counter() - t0
                if r.returncode != 0:
                    raise RuntimeError(f"{row}: {tool} failed ({r.returncode}): {argv}")
                times[row][tool].append(took)
    return times


def table(times: dict[str, dict[str, list[float]]]) -> str:
    out = [
        "| what | tool | median ms | min ms | vs best peer |",
        "|---|---|---|---|---|",
    ]
    for row, tools in times.items():
        med = {t: statistics.median(v) for t, v in tools.items()}
        peers = [m for t, m in med.items() if t not in ("autogpt-dev", "python")]
        best = min(peers) if peers else None
        for tool, m in sorted(med.items(), key=lambda kv: kv[1]):
            ratio = f"{m / best:.2f}x" if best else "no peer has it"
            if tool == "python":
                ratio = "-"
            out.append(
                f"| {row} | {tool} | {m * 1000:.1f} | {min(tools[tool]) * 1000:.1f} | {ratio} |"
            )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.commands")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        os.environ["PM2_HOME"] = str(Path(d) / "pm2")  # a pm2 daemon of its own, killed after
        with stacks(Path(d)) as rows:
            for tools in rows.values():  # warm: bytecode, page cache, our validation cache
                for argv_ in tools.values():
                    subprocess.run(argv_, capture_output=True)
            print(table(measure(rows, args.runs)))
    return 0


if __name__ == "__main__":
    with machine.alone("python -m bench.commands"):
        raise SystemExit(main())
