"""The terminal and stdout going away or stalling, as users meet it every week: a closed window
or dropped ssh session (a real pty whose master is closed), `up | head -5`, `up | less` paused.
The engine keeps its deadlines; the manager exits and frees the project."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import PY, fx, pid_alive, wait_until_sync
from tui_manager.control import wire
from tui_manager.control.client import ControlClient
from tui_manager.control.statedir import StateDir

STACK = f"""
[services.ticker]
command = {fx("ticker.py", 0.05)}
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["ticker"]
"""


def events(root: Path) -> list[dict]:
    f = root / ".autogpt-dev/logs/events.jsonl"
    return [json.loads(x) for x in f.read_text().splitlines()] if f.exists() else []


def ready(root: Path, name: str) -> bool:
    return any(e["event"] == "ready" and e["service"] == name for e in events(root))


READING = threading.Event()


def in_a_pty(root: Path, *args: str) -> tuple[int, int, threading.Thread]:
    """(pid, master fd, the reader thread) of `autogpt-dev up ARGS` on a real terminal: its own
    session, the pty its controlling terminal, as in a terminal window. The terminal reads what
    it is sent while READING is set."""
    READING.set()
    pid, master = pty.fork()
    if pid == 0:  # the child: exec at once
        os.chdir(root)
        os.execv(PY, [PY, "-m", "tui_manager", "up", *args])

    def drain() -> None:
        try:
            while True:
                READING.wait()
                if not os.read(master, 65536):
                    return
        except OSError:
            pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    return pid, master, reader


def wait_exit(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"the manager was still running {timeout}s after the terminal closed")


@pytest.mark.parametrize("mode", [(), ("--headless",)], ids=["dashboard", "headless"])
def test_closing_the_terminal_stops_everything_and_frees_the_project(write_config, mode):
    root = write_config(STACK).parent
    pid, master, reader = in_a_pty(root, *mode)
    wait_until_sync(lambda: ready(root, "fg"), 20, "the stack ready in the pty")
    pids = [e["pid"] for e in events(root) if e["event"] == "spawn"]
    t0 = time.monotonic()
    os.close(master)  # the window closes: the kernel hangs up the terminal (SIGHUP)
    assert wait_exit(pid, 10) == 0
    took = time.monotonic() - t0
    reader.join(5)
    assert took < 5, f"{took:.1f}s to exit after the terminal closed"
    assert not any(pid_alive(p) for p in pids)
    assert events(root)[-1]["event"] == "manager_stop"
    assert not StateDir(root / ".autogpt-dev").is_locked()  # the next `up` may start...
    r = subprocess.run([PY, "-m", "tui_manager", "status"], cwd=root, capture_output=True)
    assert r.returncode == 1  # ...and nobody is listening on the socket any more


def test_sigterm_still_works_on_a_dashboard_whose_terminal_stopped_reading(write_config):
    # A terminal that stops reading (ctrl+s, a frozen ssh) fills the pty: SIGTERM must still end
    # the stack in order.
    root = write_config(STACK).parent
    pid, master, reader = in_a_pty(root)
    wait_until_sync(lambda: ready(root, "fg"), 20)
    READING.clear()  # the terminal stops reading; the ticker keeps the dashboard drawing
    ticks = root / ".autogpt-dev/logs/ticker.log"
    size = ticks.stat().st_size
    wait_until_sync(lambda: ticks.stat().st_size > size + 300, 10, "the engine reads on")
    try:
        os.kill(pid, signal.SIGTERM)
        assert wait_exit(pid, 15) == 0
        assert events(root)[-1]["event"] == "manager_stop"
    finally:
        READING.set()
        os.close(master)
        reader.join(5)


def test_closed_stdout_is_an_orderly_stop(write_config):
    root = write_config(STACK).parent
    proc = subprocess.Popen(
        [PY, "-m", "tui_manager", "up", "--headless"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(5)]  # `| head -5`
    assert all(lines)
    proc.stdout.close()
    assert proc.wait(15) == 0
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.stderr.close() if proc.stderr else None
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert events(root)[-1]["event"] == "manager_stop"
    assert any(e["event"] == "stop" and e["reason"] == "shutdown" for e in events(root))


FLOODING = f"""
[services.flood]
command = {fx("flood.py", 600000)}
[services.ticker]
command = {fx("ticker.py", 0.02)}
[services.crasher]
command = ["sh", "-c", "echo up; sleep 0.3; exit 3"]
backoff = 0.05
max_restarts = 100
[services.fg]
command = {fx("sleeper.py", "fg")}
"""


def test_a_stalled_stdout_never_stalls_the_engine(write_config):
    """`up | less` with the pager paused: nobody reads our stdout."""
    root = write_config(FLOODING).parent
    proc = subprocess.Popen(
        [PY, "-m", "tui_manager", "up", "--headless"], cwd=root, stdout=subprocess.PIPE
    )
    try:
        wait_until_sync(lambda: ready(root, "fg"), 20)
        client = ControlClient(root / ".autogpt-dev", timeout=5)
        log = root / ".autogpt-dev/logs/flood.log"
        wait_until_sync(lambda: log.exists() and log.stat().st_size > 7_000_000, 30, "flood done")
        # The engine keeps supervising: crashes are restarted, commands answered in time.
        restarts = sum(e["event"] == "restart" and e["service"] == "crasher" for e in events(root))
        wait_until_sync(
            lambda: (
                sum(e["event"] == "restart" and e["service"] == "crasher" for e in events(root))
                > restarts + 2
            ),
            10,
            "the crasher restarted while stdout is stalled",
        )
        t0 = time.monotonic()
        answer = client.request(wire.Request("restart", services=("ticker",)))
        assert answer["services"][0]["state"] == "ready" and time.monotonic() - t0 < 3
        t0 = time.monotonic()
        client.request(wire.Request("status"))
        assert time.monotonic() - t0 < 0.5
        # The log file has every line, though the terminal got only what fitted.
        assert log.read_bytes().count(b"\n") == 600000
        # Still nobody reads, past the 2 s after which a reader is given up on (the ticker's
        # log, a line each 20 ms, counts the time the engine went on working meanwhile).
        ticks = root / ".autogpt-dev/logs/ticker.log"
        start = ticks.read_bytes().count(b"\n")
        wait_until_sync(lambda: ticks.read_bytes().count(b"\n") > start + 150, 20, "3 s of ticks")
        # The reader comes back: the output resumes with one line saying what was dropped.
        assert proc.stdout is not None
        seen = b""
        deadline = time.monotonic() + 15
        while b"skipped here" not in seen and time.monotonic() < deadline:
            seen += os.read(proc.stdout.fileno(), 1 << 20)
        assert b"skipped here while the reader was stopped (the log files have them)" in seen
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # (keep draining)
        assert proc.wait(15) == 0 and time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def test_sigint_keeps_its_deadline_while_nobody_reads(write_config):
    root = write_config(FLOODING).parent
    proc = subprocess.Popen(
        [PY, "-m", "tui_manager", "up", "--headless"], cwd=root, stdout=subprocess.PIPE
    )
    try:
        wait_until_sync(lambda: ready(root, "fg"), 20)
        log = root / ".autogpt-dev/logs/flood.log"
        wait_until_sync(lambda: log.exists() and log.stat().st_size > 1_000_000, 30)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)  # nobody ever reads: the writer is stuck, not the engine
        assert proc.wait(15) == 0
        assert time.monotonic() - t0 < 8
        assert events(root)[-1]["event"] == "manager_stop"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
