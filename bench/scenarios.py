"""The scenarios `python -m bench` runs against every tool: each takes (tool, workdir) and returns
(the measured value, extra columns). See bench/README.md for what each measures."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from services.settings import free_ports

from .tools import Tool

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
PY = sys.executable


class Scan:
    """Counts a marker in files that are still growing (reads only the new bytes)."""

    def __init__(self, marker: bytes) -> None:
        self.marker = marker
        self.offsets: dict[Path, int] = {}
        self.tails: dict[Path, bytes] = {}
        self.count = 0

    def update(self, files: list[Path]) -> int:
        for f in files:
            try:
                with f.open("rb") as fh:
                    fh.seek(self.offsets.get(f, 0))
                    data = fh.read()
            except FileNotFoundError:
                continue
            if not data:
                continue
            self.offsets[f] = self.offsets.get(f, 0) + len(data)
            chunk = self.tails.get(f, b"") + data
            self.count += chunk.count(self.marker)
            self.tails[f] = chunk[-len(self.marker) + 1 :]
        return self.count


def outputs(work: Path) -> list[Path]:
    return [work / "stdout.txt", *sorted(work.glob("*.out"))]


def launch(tool: Tool, services: dict[str, str], work: Path) -> subprocess.Popen[bytes]:
    argv = tool.command(services, work)
    out = (work / "stdout.txt").open("wb")
    return subprocess.Popen(
        argv,
        cwd=work,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"},
    )


def wait_marker(
    work: Path,
    marker: bytes,
    count: int,
    timeout: float,
    proc: subprocess.Popen[bytes],
    sample: Callable[[], None] | None = None,
) -> bool:
    scan = Scan(marker)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if scan.update(outputs(work)) >= count:
            return True
        if proc.poll() is not None:  # the tool is gone: one last look, then give up
            return scan.update(outputs(work)) >= count
        if sample:
            sample()
        time.sleep(0.005)
    return False


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> float:
    """Signal the tool, return seconds until it and its whole tree are gone."""
    tree = []
    with contextlib.suppress(psutil.Error):
        tree = [proc.pid, *(p.pid for p in psutil.Process(proc.pid).children(recursive=True))]
    t0 = time.monotonic()
    proc.send_signal(sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout)
    # The tool's own exit is not enough: its children must be gone too. A zombie is gone (it
    # only waits for PID 1 to reap it, which is no tool's doing).
    deadline = t0 + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in tree):
        time.sleep(0.005)
    took = time.monotonic() - t0
    for pid in tree:  # whatever a tool left behind must not skew the next run
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    return took


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# ---- scenarios --------------------------------------------------------------------------------
def flood(tool: Tool, work: Path, children: int, lines: int) -> tuple[float, dict[str, float]]:
    services = {f"flood{i}": f"{PY} {FIXTURES / 'flood.py'} {lines}" for i in range(children)}
    services["idle"] = f"{PY} {FIXTURES / 'sleeper.py'} idle"  # keeps every tool alive
    peak = [0.0]
    proc = launch(tool, services, work)

    def sample() -> None:
        try:
            rss = psutil.Process(proc.pid).memory_info().rss
            peak[0] = max(peak[0], rss / 2**20)
        except psutil.Error:
            pass

    t0 = time.monotonic()
    ok = wait_marker(work, b"line %d\n" % (lines - 1), children, 300, proc, sample)
    took = time.monotonic() - t0
    stop(proc)
    if not ok:
        raise RuntimeError("not every line arrived")
    return took, {"peak RSS MB": peak[0]}


def baseline_flood(work: Path, lines: int) -> float:
    t0 = time.monotonic()
    with (work / "alone.txt").open("wb") as f:
        subprocess.run([PY, str(FIXTURES / "flood.py"), str(lines)], stdout=f, check=True)
    return time.monotonic() - t0


def start_stop(tool: Tool, work: Path, n: int, ignore_term: bool) -> tuple[float, dict[str, float]]:
    script = "ignore_term.py" if ignore_term else "sleeper.py"
    marker = b"ignoring SIGTERM" if ignore_term else b"started s"
    services = {f"s{i}": f"{PY} {FIXTURES / script} s{i}" for i in range(n)}
    t0 = time.monotonic()
    proc = launch(tool, services, work)
    if not wait_marker(work, marker, n, 60, proc):
        stop(proc, signal.SIGKILL)
        raise RuntimeError("services did not all start")
    started = time.monotonic() - t0
    time.sleep(0.3)
    stopped = stop(proc)
    if ignore_term:  # this scenario is about the stop: each tool's escalation to SIGKILL
        return stopped, {"start s": started}
    return started, {"stop s": stopped}


def idle(tool: Tool, work: Path, seconds: float = 10) -> tuple[float, dict[str, float]]:
    services = {f"s{i}": f"{PY} {FIXTURES / 'sleeper.py'} s{i}" for i in range(6)}
    proc = launch(tool, services, work)
    wait_marker(work, b"started s", 6, 60, proc)
    time.sleep(1)
    p = psutil.Process(proc.pid)
    c0 = sum(p.cpu_times()[:2])
    time.sleep(seconds)
    c1 = sum(p.cpu_times()[:2])
    rss = p.memory_info().rss / 2**20
    stop(proc)
    return (c1 - c0) / seconds * 100, {"RSS MB": rss}


def big(tool: Tool, work: Path, kind: str) -> tuple[float, dict[str, float]]:
    """Huge lines or binary output: time to the end marker, and whether the log is exact.

    Exactness (1 = the log file's hash equals the child's output) is checked where a tool keeps
    the raw bytes: our log file and supervisord's stdout_logfile; the others only print
    prefixed copies (-1 = not checkable)."""
    cmd = f"{PY} {FIXTURES / 'big_then_marker.py'} {kind}"
    services = {"big": cmd, "idle": f"{PY} {FIXTURES / 'sleeper.py'} idle"}
    proc = launch(tool, services, work)
    t0 = time.monotonic()
    ok = wait_marker(work, b"END-OF-DATA\n", 1, 120, proc)
    took = time.monotonic() - t0
    time.sleep(0.2)
    raw = {"autogpt-dev": work / "state" / "logs" / "big.log", "supervisord": work / "big.out"}.get(
        tool.name
    )
    exact = -1.0
    if raw is not None and raw.exists():
        want = subprocess.run(
            [PY, str(FIXTURES / "big_then_marker.py"), kind], capture_output=True, check=True
        ).stdout
        exact = float(hashlib.sha256(raw.read_bytes()).digest() == hashlib.sha256(want).digest())
    stop(proc)
    if not ok:
        raise RuntimeError("the end marker never arrived")
    return took, {"exact (1=yes)": exact}


def ready_tcp(tool: Tool, work: Path, n: int) -> tuple[float, dict[str, float]]:
    """Ours only (the peers have no readiness probes): n services to all-ready on tcp probes."""
    ports = free_ports(n)
    lines = ['[manager]\nstate_dir = "state"\n']
    for i, port in enumerate(ports):
        lines.append(
            f'[services.s{i}]\ncommand = ["{PY}", "{FIXTURES / "ready_after.py"}", '
            f'"{port}", "0"]\nready = {{ tcp = "127.0.0.1:{port}", interval = 0.02 }}\n'
        )
    (work / "autogpt-dev.toml").write_text("".join(lines))
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [PY, "-m", "tui_manager", "up", "--headless", "-c", str(work / "autogpt-dev.toml")],
        cwd=work,
        stdout=(work / "stdout.txt").open("wb"),
        stderr=subprocess.STDOUT,
    )
    ok = wait_marker(work, b" ready after ", n, 60, proc)
    took = time.monotonic() - t0
    stop(proc)
    if not ok:
        raise RuntimeError("not all ready")
    return took, {}


def _na() -> tuple[float, dict[str, float]]:
    raise RuntimeError("not applicable")


def _started(tool: Tool, work: Path, n: int) -> tuple[subprocess.Popen[bytes], float]:
    services = {f"s{i}": f"{PY} {FIXTURES / 'sleeper.py'} s{i}" for i in range(n)}
    t0 = time.monotonic()
    proc = launch(tool, services, work)
    if not wait_marker(work, b"started s", n, 120, proc):
        stop(proc, signal.SIGKILL)
        raise RuntimeError("services did not all start")
    return proc, time.monotonic() - t0


def _settled_rss_kb(proc: subprocess.Popen[bytes]) -> float:
    time.sleep(1)  # past the start-up's transient buffers
    return psutil.Process(proc.pid).memory_info().rss / 1024


def scale(tool: Tool, work: Path, n: int) -> tuple[float, dict[str, float]]:
    """n services: start, stop, and the manager's memory per service: what n services cost over
    one (RSS at n minus RSS at 1, over n - 1), so the interpreter itself is not counted."""
    (work / "one").mkdir()
    proc, _ = _started(tool, work / "one", 1)
    one = _settled_rss_kb(proc)
    stop(proc)
    proc, started = _started(tool, work, n)
    rss = _settled_rss_kb(proc)
    stopped = stop(proc, timeout=20)  # a tool that leaves orphans shows as 20 s
    per = (rss - one) / (n - 1)
    return started, {"stop s": stopped, "manager KB/service": per}


SCENARIOS: dict[str, tuple[str, Callable[[Tool, Path], tuple[float, dict[str, float]]]]] = {
    "flood-1x1M": (
        "1 child x 1M lines, to all-written (s)",
        lambda t, w: flood(t, w, 1, 1_000_000),
    ),
    "flood-6x200k": ("6 children x 200k lines (s)", lambda t, w: flood(t, w, 6, 200_000)),
    "start-6": ("6 services to all-started (s)", lambda t, w: start_stop(t, w, 6, False)),
    "start-50": ("50 services to all-started (s)", lambda t, w: start_stop(t, w, 50, False)),
    "stop-6-ignore-term": (
        "6 services ignoring SIGTERM: SIGTERM to all gone (s)",
        lambda t, w: start_stop(t, w, 6, True),
    ),
    "big-lines": ("100 lines of 1 MB, to the end marker (s)", lambda t, w: big(t, w, "lines")),
    "binary": ("10 MB of random bytes, to the end marker (s)", lambda t, w: big(t, w, "binary")),
    "ready-tcp-6": (
        "6 services to all-ready on tcp probes (s; ours only: peers have none)",
        lambda t, w: ready_tcp(t, w, 6) if t.name == "autogpt-dev" else _na(),
    ),
    "idle-6": ("idle CPU % of the manager, 6 services", idle),
    "scale-200": ("200 services: start to all-started (s)", lambda t, w: scale(t, w, 200)),
}
UNITS = {"idle-6": "% CPU"}
NOTES = {
    "stop-6-ignore-term": (
        "15.000 is the bench's limit: honcho and concurrently never escalate to SIGKILL, so the"
        " children that ignore SIGTERM were still alive when the bench gave up (and killed them"
        " itself). supervisord (stopwaitsecs=1) stops its groups one at a time, each [program:x]"
        " its own group, and checks a stop's deadline on its 1 s poll: 6 x 1 to 2 s."
    ),
    "idle-6": "0.000 means less than one 10 ms clock tick of CPU in the 10 s window.",
    "big-lines": (
        "exact: 1 = the log file is byte-identical to what the child wrote; -1 = the tool keeps"
        " no raw log to compare."
    ),
}
