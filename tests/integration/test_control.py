"""The control socket against a real headless `up`: streaming, many clients, bad input."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests.conftest import PY, fx, wait_until_sync
from tests.integration.test_cli import Up, cli
from tui_manager import platform
from tui_manager.control import wire
from tui_manager.control.client import ControlClient

TICKER = f"""
[services.ticker]
command = {fx("ticker.py")}
[services.fg]
command = {fx("sleeper.py", "fg")}
"""


@pytest.fixture
def up(write_config) -> Iterator[Up]:
    path = write_config(TICKER)
    proc = Up(path.parent)
    try:
        proc.wait_ready("fg", "ticker")
        yield proc
    finally:
        if proc.proc.poll() is None:
            proc.proc.send_signal(signal.SIGTERM)
            proc.finish()


def raw(up: Up, payload: bytes, read: bool = True) -> bytes:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(str(up.cwd / ".autogpt-dev/control.sock"))
        s.sendall(payload)
        if not read:
            return b""
        with s.makefile("rb") as f:
            return f.readline()


def test_logs_follow_receives_lines_as_they_are_written(up: Up):
    follower = subprocess.Popen(
        [PY, "-m", "tui_manager", "logs", "ticker", "-n", "1", "-f"],
        cwd=up.cwd,
        stdout=subprocess.PIPE,
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()
        seen = [follower.stdout.readline() for _ in range(20)]
        numbers = [int(line.split()[1]) for line in [first, *seen]]
        assert numbers == list(range(numbers[0], numbers[0] + 21))  # in order, none skipped
    finally:
        follower.send_signal(signal.SIGINT)
        follower.communicate(timeout=10)  # (closes its pipe)


def test_ten_followers_and_status_polling_at_once(up: Up):
    followers = [
        subprocess.Popen(
            [PY, "-m", "tui_manager", "logs", "ticker", "-f", "-n", "0"],
            cwd=up.cwd,
            stdout=subprocess.PIPE,
        )
        for _ in range(10)
    ]
    client = ControlClient(up.cwd / ".autogpt-dev", timeout=10)
    try:
        t0 = time.monotonic()
        answers = [client.request(wire.Request("status")) for _ in range(50)]
        per_status = (time.monotonic() - t0) / 50
        assert all(a["ok"] for a in answers)
        assert per_status < 0.1, f"status took {per_status * 1000:.0f} ms under load"
        for f in followers:
            assert f.stdout is not None and f.stdout.readline().startswith(b"tick")
    finally:
        for f in followers:
            f.kill()
            f.communicate()


def test_events_stream_sends_snapshot_then_live_events(up: Up):
    client = ControlClient(up.cwd / ".autogpt-dev", timeout=10)
    stream = client.stream(wire.Request("events"))
    snapshot = next(stream)
    assert [s["name"] for s in snapshot["services"]] == ["ticker", "fg"]
    threading.Thread(target=lambda: cli("restart", "ticker", cwd=up.cwd), daemon=True).start()
    kinds = []
    for ev in stream:
        kinds.append((ev["service"], ev["event"]))
        if ("ticker", "ready") in kinds:
            break
    assert ("ticker", "stop") in kinds and ("ticker", "restart") in kinds
    stream.close()


@pytest.mark.parametrize(
    "payload",
    [b"garbage\n", b"[1, 2]\n", b'{"cmd": "fly"}\n', b'{"cmd": "restart", "services": "ticker"}\n'],
)
def test_bad_requests_are_answered_with_an_error(up: Up, payload: bytes):
    answer = json.loads(raw(up, payload))
    assert answer["ok"] is False and answer["code"] == 2 and answer["error"]
    assert json.loads(raw(up, b'{"cmd": "status"}\n'))["ok"]  # the manager is unaffected


def test_huge_and_half_closed_requests_do_not_hurt_the_manager(up: Up):
    try:  # the server answers and hangs up while we are still sending: either is fine
        answer = json.loads(raw(up, b"x" * (2 << 20) + b"\n"))
        assert answer == {"ok": False, "error": "request too long", "code": 2}
    except (BrokenPipeError, ConnectionResetError):
        pass
    with socket.socket(socket.AF_UNIX) as s:  # connect, write half a line, hang up
        s.connect(str(up.cwd / ".autogpt-dev/control.sock"))
        s.sendall(b'{"cmd": "sta')
        s.shutdown(socket.SHUT_WR)
    assert json.loads(raw(up, b'{"cmd": "status"}\n'))["ok"]
    assert up.proc.poll() is None


def test_no_wait_returns_before_the_restart_is_done(up: Up):
    r = cli("restart", "fg", "--no-wait", cwd=up.cwd)
    assert r.returncode == 0
    r = cli("restart", "fg", cwd=up.cwd)
    assert r.stdout.strip() == "fg: ready"


def test_down_exit_code_is_the_stacks(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('sleeper.py')}\n")
    up = Up(path.parent)
    up.wait_ready("fg")
    assert cli("down", cwd=path.parent).returncode == 0
    assert up.finish() == 0
    assert not (path.parent / ".autogpt-dev/control.sock").exists()
    assert not (path.parent / ".autogpt-dev/manager.pid").exists()


def test_logs_reach_into_rotated_backups(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('sleeper.py')}\n")
    logs = path.parent / ".autogpt-dev/logs"
    logs.mkdir(parents=True)
    (logs / "fg.log.1").write_bytes(b"old1\nold2\n")
    (logs / "fg.log").write_bytes(b"new1\n")
    r = cli("logs", "fg", "-n", "2", cwd=path.parent)
    assert r.stdout == "old2\nnew1\n"


def test_memory_answers_rss_and_what_grew_since_the_last_ask(write_config):
    """Untraced: RSS and objects, and how to trace. Traced: the first ask is the baseline, the
    second names where the manager's heap grew (the ticker's lines in the ring)."""
    path = write_config(TICKER)
    plain = cli("memory", cwd=path.parent)
    assert plain.returncode == 1 and "no autogpt-dev manager is running" in plain.stderr
    up = Up(path.parent, env={"AUTOGPT_DEV_TRACEMALLOC": "8"})
    try:
        up.wait_ready("fg", "ticker")
        first = cli("memory", cwd=up.cwd)
        assert first.returncode == 0, first.stderr
        assert re.match(r"RSS \d+\.\d MB, [\d,]+ objects\n", first.stdout), first.stdout
        assert "the first ask is the baseline" in first.stdout, first.stdout
        ticks = up.output().count("ticker |")
        wait_until_sync(  # the ticker has written more since the baseline
            lambda: up.output().count("ticker |") > ticks + 50, 15, "more ticker lines"
        )
        second = json.loads(cli("memory", "--json", "-n", "50", cwd=up.cwd).stdout)
        assert second["tracing"] and second["traced"] > 0 and second["rss"] > second["traced"]
        assert second["growth"] and any(
            "tui_manager" in frame for g in second["growth"] for frame in g["traceback"]
        ), second["growth"]
        types = second["types"]  # every object the collector tracks, by type: events among them
        assert sum(types.values()) == second["gc_objects"] and types["Lifecycle"] > 0, types
        rings = second["rings"]  # the ticker's lines, as blocks in its ring
        assert rings["lines"] > 50 and rings["held"] > rings["bytes"] > 0, rings
        table = cli("memory", cwd=up.cwd).stdout
        assert "GREW" in table and "caller -> allocation" in table, table
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_memory_without_tracing_says_how_to_trace(up: Up):
    r = cli("memory", cwd=up.cwd)
    assert r.returncode == 0, r.stderr
    assert "AUTOGPT_DEV_TRACEMALLOC=1 or more" in r.stdout and "GREW" not in r.stdout, r.stdout
    assert ("C heap" in r.stdout) is (not platform.CAPS.portable), r.stdout
    assert re.search(r"log rings \d+\.\d MB \([\d,]+ lines\)", r.stdout), r.stdout
    assert re.search(r"most of them: \w+ [\d,]+, ", r.stdout), r.stdout
