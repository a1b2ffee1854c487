"""The quick reliability suite (in CI): faulty children, floods and sizes, and signals to the
manager at chosen moments. Each checks: nothing left alive, no byte lost, the right exit code,
the events logged. (The autouse fixture in conftest fails any test that leaves a process.)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import signal
import subprocess
import time
from functools import partial
from pathlib import Path

import psutil
import pytest

from tests.conftest import PY, fx, pid_alive, wait_until, wait_until_sync
from tests.helpers import events, log_bytes, row, state, supervised
from tests.integration.test_cli import Up
from tui_manager.base.tail import rotated
from tui_manager.config import load
from tui_manager.core.supervisor import Supervisor

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def expected(*argv: str) -> bytes:
    return subprocess.run([PY, *argv], capture_output=True, check=True).stdout


# ---- faulty children ----------------------------------------------------------------------------
async def test_zombie_making_child_stops_cleanly(write_config):
    path = write_config(
        f"[services.z]\ncommand = {fx('zombie_maker.py')}\n"
        f'ready = {{ log = "made zombies" }}\n[services.fg]\n'
        f"command = {fx('sleeper.py')}\n"
    )
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "z") == "ready")
        t0 = time.monotonic()
        await sup.stop_service("z")
        assert time.monotonic() - t0 < 2 and state(sup, "z") == "stopped"


async def test_child_closing_its_outputs_is_still_supervised(write_config):
    path = write_config(
        f"[services.c]\ncommand = {fx('close_stdout.py')}\nstop_timeout = 1\n"
        f"[services.fg]\ncommand = {fx('sleeper.py')}\n"
    )
    async with supervised(path) as sup:
        # Positive control first: its last line was read (then it closed both pipes).
        await wait_until(lambda: log_bytes(sup, "c") == b"closing my outputs\n", 5)
        assert state(sup, "c") == "ready"  # EOF on the pipes is not an exit
        await sup.stop_service("c")
        assert row(sup, "c").exit_signal == signal.SIGTERM
    assert log_bytes(sup, "c") == b"closing my outputs\n"


async def test_exit_is_seen_by_pid_even_when_a_grandchild_keeps_the_pipe(write_config):
    path = write_config(
        f'[services.p]\ncommand = {fx("pipe_holder.py")}\nrestart = "no"\n'
        f"stop_timeout = 0.5\n[services.fg]\ncommand = {fx('sleeper.py')}\n"
    )
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "p") == "failed", 5, "exit seen at once")
        assert row(sup, "p").exit_code == 4
        # ...and the grandchild holding the pipe was killed with it (the whole tree dies).
        holder = int((path.parent / "holder.pid").read_text())
        await wait_until(lambda: not pid_alive(holder), 3, "the grandchild gone")


async def test_stderr_and_stdout_are_read_concurrently(write_config):
    path = write_config(
        f"[services.b]\ncommand = {fx('both_streams.py', 4)}\n"
        f"[services.fg]\ncommand = {fx('sleeper.py')}\n"
    )
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "b") == "exited", 20, "no pipe deadlock")
    data = log_bytes(sup, "b")
    assert data.count(b"e" * 1023 + b"\n") == 4 * 1024  # 8 MB in all: under the rotation size
    assert data.count(b"o" * 1023 + b"\n") == 4 * 1024


async def test_exit_before_ready_backs_off_then_fails(write_config):
    path = write_config(f"""
[services.early]
command = {fx("crash.py", 2)}
ready = {{ tcp = "127.0.0.1:1", interval = 0.05 }}
backoff = 0.02
max_restarts = 2
[services.fg]
command = {fx("sleeper.py")}
depends_on = ["early"]
""")
    sup = Supervisor(load(path))
    assert await asyncio.wait_for(sup.run(), 20) == 1  # the foreground's dependency failed
    assert row(sup, "early").restarts == 2
    assert row(sup, "fg").spawns == 0


async def test_a_hanging_probe_cannot_outlive_its_timeouts(write_config):
    path = write_config(f"""
[services.hang]
command = {fx("sleeper.py")}
ready = {{ exec = "sleep 100", timeout = 0.3, interval = 0.05 }}
ready_timeout = 1
[services.fg]
command = {fx("sleeper.py")}
""")
    async with supervised(path) as sup:
        t0 = time.monotonic()
        await wait_until(lambda: state(sup, "hang") == "failed", 5)
        assert time.monotonic() - t0 < 2.5
        assert "not ready after 1s" in (row(sup, "hang").reason or "")


async def test_foreground_crashing_during_startup_ends_the_stack_with_its_code(write_config):
    path = write_config(f"""
[services.db]
command = {fx("sleeper.py")}
[services.fg]
command = {fx("crash.py", 5, 0.1)}
ready = {{ tcp = "127.0.0.1:1" }}
depends_on = ["db"]
""")
    sup = Supervisor(load(path))
    assert await asyncio.wait_for(sup.run(), 20) == 5


async def test_dependency_crashing_while_dependents_start(write_config):
    path = write_config(f"""
[services.db]
command = {fx("crash.py", 1, 0.3)}
restart = "no"
[services.api]
command = {fx("sleeper.py")}
depends_on = {{ db = "started" }}
[services.late]
command = ["sh", "-c", "sleep 1; exec {PY} {FIX / "sleeper.py"}"]
depends_on = {{ api = "ready" }}
[services.fg]
command = {fx("sleeper.py")}
depends_on = ["api"]
""")
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "db") == "failed", 5)
        await wait_until(lambda: state(sup, "late") == "ready", 5)
        # `started` was met before the crash: the dependents run on; only the foreground's
        # end would end the stack.
        assert state(sup, "api") == "ready" and state(sup, "fg") == "ready"
        assert not sup.shutting_down


async def test_output_after_being_told_to_stop_is_kept(write_config):
    path = write_config(
        f"[services.t]\ncommand = {fx('talk_on_term.py', 5000)}\n"
        f'ready = {{ log = "waiting" }}\n[services.fg]\n'
        f"command = {fx('sleeper.py')}\n"
    )
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "t") == "ready")
        await sup.stop_service("t")
    data = log_bytes(sup, "t")
    assert data.count(b"goodbye ") == 5000 and data.endswith(b"goodbye 4999\n")


def test_crash_loop_at_full_speed_keeps_the_manager_cheap(write_config):
    path = write_config("""
[services.loop]
command = ["sh", "-c", "exit 1"]
backoff = 0.01
backoff_max = 0.05
max_restarts = 60
restart_window = 60
[services.fg]
command = ["sleep", "1000"]
""")
    up = Up(path.parent)
    try:
        wait_until_sync(lambda: "loop failed" in up.output(), 30, "the loop to give up")
        times = psutil.Process(up.proc.pid).cpu_times()
        took = time.time() - psutil.Process(up.proc.pid).create_time()
        cpu = (times.user + times.system) / took * 100
        assert cpu < 50, f"manager CPU {cpu:.0f}% while crash-looping"  # mostly fork/exec
        rows = [
            json.loads(x)
            for x in (path.parent / ".autogpt-dev/logs/events.jsonl").read_text().splitlines()
        ]
        assert sum(r["event"] == "restart" for r in rows) == 60
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


# ---- floods and sizes ----------------------------------------------------------------------
async def test_six_floods_at_once_are_byte_identical(write_config):
    body = "".join(f"[services.f{i}]\ncommand = {fx('flood.py', 200000)}\n" for i in range(6))
    path = write_config(body + f"[services.fg]\ncommand = {fx('sleeper.py')}\n")
    want = hashlib.sha256(expected(str(FIX / "flood.py"), "200000")).hexdigest()
    async with supervised(path) as sup:
        await wait_until(lambda: all(state(sup, f"f{i}") == "exited" for i in range(6)), 60)
    for i in range(6):
        assert hashlib.sha256(log_bytes(sup, f"f{i}")).hexdigest() == want


@pytest.mark.parametrize("kind", ["line50", "binary", "cr"])
async def test_big_lines_binary_and_cr_storms_pass_through_exactly(write_config, kind):
    path = write_config(
        f"[services.big]\ncommand = {fx('big_outputs.py', kind)}\n"
        f"[services.fg]\ncommand = {fx('sleeper.py')}\n"
    )
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "big") == "exited", 60)  # exited: all drained
        tail = sup.history("big", 1)
    want = expected(str(FIX / "big_outputs.py"), kind)
    assert hashlib.sha256(log_bytes(sup, "big")).digest() == hashlib.sha256(want).digest()
    assert tail  # the views got a (cut) last line without choking on it


async def test_rotation_under_a_flood_loses_nothing(write_config):
    path = write_config(f"""
[manager]
log_max_bytes = 100000
log_backups = 1000
[services.flood]
command = {fx("flood.py", 100000)}
[services.fg]
command = {fx("sleeper.py")}
""")
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "flood") == "exited", 30)
    assert log_bytes(sup, "flood") == expected(str(FIX / "flood.py"), "100000")
    assert len(rotated(sup.log_path("flood"))) > 5


# ---- signals to the manager at chosen moments ------------------------------------------------
WAVES = f"""
[services.a]
command = {fx("sleeper.py", "a")}
ready = {{ log = "started", interval = 0.05 }}
[services.b]
command = ["sh", "-c", "sleep 0.4; exec {PY} {FIX / "sleeper.py"} b"]
ready = {{ log = "started" }}
depends_on = ["a"]
[services.forker]
command = {fx("grandchild_setsid.py", "gc.pid")}
depends_on = ["a"]
[services.fg]
command = ["sh", "-c", "sleep 0.4; exec {PY} {FIX / "sleeper.py"} fg"]
depends_on = ["b"]
"""
MOMENTS = [
    (sig, delay) for sig in ("SIGINT", "SIGTERM", "SIGHUP", "SIGKILL") for delay in (0.4, 1.1)
]


def none_alive(pids: frozenset[int]) -> bool:
    return not any(pid_alive(p) for p in pids)


def descendants(pid: int) -> list[int]:
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return []


@pytest.mark.parametrize("sig,delay", MOMENTS)
def test_signal_during_start_up_waves(write_config, sig: str, delay: float):
    path = write_config(WAVES)
    up = Up(path.parent)
    seen: set[int] = set()
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:  # remember every process the tree ever had
        seen.update(descendants(up.proc.pid))
        time.sleep(0.01)
    gc = path.parent / "gc.pid"
    if gc.exists():
        seen.add(int(gc.read_text()))
    up.proc.send_signal(getattr(signal, sig))
    code = up.finish(20)
    wait_until_sync(lambda: not any(pid_alive(p) for p in seen), 2.0, "every descendant gone")
    if sig != "SIGKILL":
        assert code == 0
        rows = (path.parent / ".autogpt-dev/logs/events.jsonl").read_text().splitlines()
        assert json.loads(rows[-1])["event"] == "manager_stop"


def test_sigterm_during_a_restart_and_sigkill_during_shutdown(write_config):
    path = write_config(WAVES.replace('"sleep 0.4; ', '"sleep 0.1; '))
    for second in ("SIGTERM", "SIGKILL"):
        up = Up(path.parent)
        up.wait_ready("fg")
        seen = set(descendants(up.proc.pid))
        subprocess.Popen(
            [PY, "-m", "tui_manager", "restart", "b", "--no-wait"],
            cwd=path.parent,
            stdout=subprocess.DEVNULL,
        ).wait(10)
        up.proc.send_signal(signal.SIGTERM)
        if second == "SIGKILL":
            time.sleep(random.Random(1).uniform(0.01, 0.1))
            up.proc.send_signal(signal.SIGKILL)
        up.finish(20)
        wait_until_sync(partial(none_alive, frozenset(seen)), 2.0, "descendants gone")


async def test_events_tell_the_whole_story(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('crash.py', 0)}\n")
    sup = Supervisor(load(path))
    await sup.run()
    kinds = [e["event"] for e in events(sup)]
    assert kinds == ["manager_start", "spawn", "ready", "exit", "manager_stop"]


@pytest.mark.stress
async def test_six_floods_of_a_million_lines_each(write_config):
    """`pytest -m stress`: 6 x 1M lines at full speed, byte-identical (rotation included)."""
    body = "".join(f"[services.f{i}]\ncommand = {fx('flood.py', 1_000_000)}\n" for i in range(6))
    path = write_config(
        "[manager]\nlog_backups = 100\n" + body + f"[services.fg]\ncommand = {fx('sleeper.py')}\n"
    )
    want = hashlib.sha256(expected(str(FIX / "flood.py"), "1000000")).hexdigest()
    async with supervised(path) as sup:
        await wait_until(lambda: all(state(sup, f"f{i}") == "exited" for i in range(6)), 120)
    for i in range(6):
        assert hashlib.sha256(log_bytes(sup, f"f{i}")).hexdigest() == want
