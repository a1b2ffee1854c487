"""The engine against real child processes (fixtures in tests/fixtures/), in-process."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PY, free_port, fx, pid_alive, wait_until
from tests.helpers import Recorder, events, log_bytes, row, state, supervised
from tui_manager.config import load
from tui_manager.core.events import StateChanged
from tui_manager.core.supervisor import Supervisor


async def test_start_order_waits_for_ready_and_starts_siblings_concurrently(write_config):
    port = free_port()
    path = write_config(f"""
        [services.db]
        command = {fx("ready_after.py", port, 0.4)}
        ready = {{ http = "http://127.0.0.1:{port}/health", interval = 0.05 }}
        [services.api]
        command = {fx("sleeper.py", "api")}
        depends_on = ["db"]
        [services.ws]
        command = {fx("sleeper.py", "ws")}
        depends_on = ["db"]
        [services.exec]
        command = {fx("sleeper.py", "exec")}
        depends_on = {{ api = "ready", ws = "started" }}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "exec") == "ready", 15, "exec ready")
    ev = events(sup)
    t = {(e["service"], e["event"]): e["ts"] for e in ev}
    assert t[("db", "ready")] - t[("db", "spawn")] >= 0.35
    assert t[("api", "spawn")] >= t[("db", "ready")]
    assert t[("ws", "spawn")] >= t[("db", "ready")]
    assert abs(t[("api", "spawn")] - t[("ws", "spawn")]) < 0.2  # same wave, concurrently
    assert t[("exec", "spawn")] >= t[("api", "ready")]
    # Reverse order on the way out: exec before api/ws, db last.
    stops = [e["service"] for e in ev if e["event"] == "exit"]
    assert stops[0] == "exec" and stops[-1] == "db"
    assert ev[-1]["event"] == "manager_stop"


async def test_foreground_exit_code_ends_the_stack(write_config):
    path = write_config(f"""
        [services.bg]
        command = {fx("sleeper.py")}
        [services.fg]
        command = {fx("crash.py", 7, 0.2)}
        depends_on = ["bg"]
    """)
    sup = Supervisor(load(path))
    assert await asyncio.wait_for(sup.run(), 20) == 7
    assert state(sup, "bg") == "stopped"


async def test_foreground_exit_zero_is_clean(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('crash.py', 0)}\n")
    assert await asyncio.wait_for(Supervisor(load(path)).run(), 20) == 0


async def test_failed_dependency_fails_dependents_and_exits_1(write_config):
    path = write_config(f"""
        [services.other]
        command = {fx("sleeper.py")}
        [services.db]
        command = "definitely-not-a-command-xyz"
        [services.fg]
        command = {fx("sleeper.py")}
        depends_on = ["db"]
    """)
    sup = Supervisor(load(path))
    code = await asyncio.wait_for(sup.run(), 20)
    assert code == 1
    assert row(sup, "db").reason == "command not found: definitely-not-a-command-xyz"
    assert row(sup, "fg").reason == "dependency db failed"
    assert row(sup, "fg").spawns == 0


async def test_background_failure_keeps_the_rest_running(write_config):
    path = write_config(f"""
        [services.broken]
        command = "definitely-not-a-command-xyz"
        [services.fine]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "broken") == "failed")
        await wait_until(lambda: state(sup, "fine") == "ready")
        assert not sup.shutting_down


async def test_sigkill_escalation_after_stop_timeout(write_config):
    path = write_config(f"""
        [services.stubborn]
        command = {fx("ignore_term.py")}
        stop_timeout = 0.5
        ready = {{ log = "ignoring" }}
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "stubborn") == "ready")
        pid = row(sup, "stubborn").pid
        t0 = time.monotonic()
        await sup.stop_service("stubborn")
        took = time.monotonic() - t0
        assert 0.45 <= took < 2.0
        assert row(sup, "stubborn").exit_signal == 9
        assert not pid_alive(pid)


async def test_grandchild_in_its_own_session_dies_with_the_service(write_config, tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    path = write_config(f"""
        [services.forker]
        command = {fx("grandchild_setsid.py", pidfile, "ignore")}
        stop_timeout = 0.5
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        await wait_until(pidfile.exists, 10, "grandchild pid file")
        grandchild = int(pidfile.read_text())
        assert pid_alive(grandchild)
        await sup.stop_service("forker")
        await wait_until(lambda: not pid_alive(grandchild), 3, "grandchild gone")


async def test_crash_loop_backs_off_then_fails(write_config):
    path = write_config(f"""
        [services.crasher]
        command = {fx("crash.py", 3)}
        backoff = 0.05
        backoff_max = 0.2
        max_restarts = 3
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        seen = Recorder(sup)
        await wait_until(lambda: state(sup, "crasher") == "failed", 15)
        svc = row(sup, "crasher")
        assert svc.restarts == 3
        assert "crashed 4 times" in (svc.reason or "")
        assert any(isinstance(m, StateChanged) and m.new == "backoff" for m in seen.messages)
    restarts = [e for e in events(sup) if e["event"] == "restart"]
    assert len(restarts) == 3
    gaps = [b["ts"] - a["ts"] for a, b in itertools.pairwise(restarts)]
    assert gaps[1] > gaps[0] * 1.3  # the delay grows


async def test_user_restart_of_failed_service_resets_and_starts(write_config, tmp_path):
    flag = tmp_path / "fixed"
    path = write_config(
        f"""
        [services.flaky]
        command = ["sh", "-c", "test -e {flag} && exec {PY} {tmp_path}/../sleep.py || exit 4"]
        max_restarts = 0
        [services.fg]
        command = {fx("sleeper.py")}
    """.replace(
            f"{tmp_path}/../sleep.py", str(Path(__file__).parent.parent / "fixtures" / "sleeper.py")
        )
    )
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "flaky") == "failed")
        flag.touch()
        await sup.restart_service("flaky")
        st = await sup.wait_settled("flaky", 10)
        assert st.state == "ready"
        assert [e["reason"] for e in events(sup) if e["event"] == "restart"] == ["user"]


async def test_user_stop_leaves_dependents_running(write_config):
    path = write_config(f"""
        [services.db]
        command = {fx("sleeper.py")}
        [services.api]
        command = {fx("sleeper.py")}
        depends_on = ["db"]
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "api") == "ready")
        await sup.stop_service("db")
        assert state(sup, "db") == "stopped" and state(sup, "api") == "ready"
        await sup.start_service("db")
        assert (await sup.wait_settled("db")).state == "ready"


async def test_restart_cascade_to_dependents_with_restart_true(write_config):
    path = write_config(f"""
        [services.db]
        command = {fx("sleeper.py")}
        [services.api]
        command = {fx("sleeper.py")}
        depends_on = {{ db = {{ condition = "ready", restart = true }} }}
        [services.other]
        command = {fx("sleeper.py")}
        depends_on = ["db"]
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "api") == "ready" and state(sup, "other") == "ready")
        api_pid = row(sup, "api").pid
        other_pid = row(sup, "other").pid
        await sup.restart_service("db")
        await wait_until(lambda: row(sup, "api").spawns == 2, 10, "api restarted")
        await wait_until(lambda: state(sup, "api") == "ready")
        assert row(sup, "api").pid != api_pid  # type: ignore[union-attr]
        assert row(sup, "other").pid == other_pid  # type: ignore[union-attr]


async def test_port_taken_fails_at_once_naming_the_holder(write_config):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        path = write_config(f"""
            [services.web]
            command = {fx("ready_after.py", port, 0)}
            ready = {{ tcp = "127.0.0.1:{port}" }}
            [services.fg]
            command = {fx("sleeper.py")}
        """)
        async with supervised(path) as sup:
            await wait_until(lambda: state(sup, "web") == "failed", 5)
            import os

            assert row(sup, "web").reason == (
                f"port {port} is already in use by pid {os.getpid()} ("
                + __import__("psutil").Process().name()
                + ")"
            )
            assert row(sup, "web").spawns == 0
    finally:
        holder.close()


async def test_readiness_timeout_fails_service_and_dependents(write_config):
    port = free_port()
    path = write_config(f"""
        [services.slow]
        command = {fx("sleeper.py")}
        ready = {{ tcp = "127.0.0.1:{port}", interval = 0.05 }}
        ready_timeout = 0.5
        [services.fg]
        command = {fx("sleeper.py")}
        depends_on = ["slow"]
    """)
    sup = Supervisor(load(path))
    assert await asyncio.wait_for(sup.run(), 20) == 1
    assert (row(sup, "slow").reason or "").startswith("not ready after 0.5s")
    assert row(sup, "fg").reason == "dependency slow failed"


async def test_failing_health_probe_marks_unhealthy_and_restarts(write_config, tmp_path):
    port = free_port()
    path = write_config(f"""
        [services.web]
        command = {fx("sleeper.py")}
        health = {{ tcp = "127.0.0.1:{port}", interval = 0.05, failures = 2, timeout = 0.5 }}
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        seen = Recorder(sup)
        await wait_until(lambda: row(sup, "web").spawns >= 2, 10, "restart after unhealthy")
        kinds = [m.event for m in seen.lifecycle("web")]
        assert "unhealthy" in kinds and "restart" in kinds


async def test_log_file_is_byte_exact_under_a_flood(write_config):
    path = write_config(f"""
        [services.flood]
        command = {fx("flood.py", 300000, 5000)}
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "flood") == "exited", 30)  # exited: all drained
        data = log_bytes(sup, "flood")
    out = [ln for ln in data.splitlines() if ln.startswith(b"line ")]
    err = [ln for ln in data.splitlines() if ln.startswith(b"err ")]
    assert out == [b"line %d" % i for i in range(300000)]  # nothing lost or reordered
    assert err == [b"err %d" % i for i in range(5000)]


async def test_weird_output_passes_through_untouched(write_config):
    path = write_config(f"""
        [services.weird]
        command = {fx("weird_output.py")}
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "weird") == "exited", 20)  # exited: all drained
        tail = [ln.text for ln in sup.history("weird", 10)]
    expected = subprocess.run(
        [PY, str(Path(fx("weird_output.py").split('"')[3]))], capture_output=True, check=True
    ).stdout
    data = log_bytes(sup, "weird")
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(expected).hexdigest()
    assert tail[-1] == "tail without newline"
    assert "\x1b[31mred\x1b[0m [bold]not markup[/bold]" in tail


async def test_children_get_unbuffered_marker_and_env_precedence(write_config, tmp_path):
    (tmp_path / "svc.env").write_text("FROM_FILE=1\nBOTH=file\n")
    path = write_config(f"""
        [services.env]
        command = {fx("dump_env.py")}
        env_file = "svc.env"
        env = {{ BOTH = "inline" }}
        ready = {{ log = "PYTHONUNBUFFERED" }}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "env") == "ready")
        env = json.loads(sup.history("env", 1)[0].text)
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["FROM_FILE"] == "1" and env["BOTH"] == "inline"
    run, service, start = env["AUTOGPT_DEV_MARK"].split(":")  # each start has its own number
    assert (run, service) == (sup.run_id, "env") and start.isdigit()


@pytest.mark.parametrize("only,expected", [(["api"], {"db", "api"}), ([], {"db", "api", "x"})])
async def test_subset_starts_named_services_and_their_dependencies(write_config, only, expected):
    path = write_config(f"""
        [services.db]
        command = {fx("sleeper.py")}
        [services.api]
        command = {fx("sleeper.py")}
        depends_on = ["db"]
        [services.x]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path, only=only) as sup:
        assert set(sup.info.order) == expected


async def test_except_treats_the_excluded_dependency_as_met(write_config):
    path = write_config(f"""
        [services.db]
        command = {fx("sleeper.py")}
        [services.api]
        command = {fx("sleeper.py")}
        depends_on = ["db"]
    """)
    async with supervised(path, exclude=["db"]) as sup:
        assert list(sup.info.order) == ["api"]
        await wait_until(lambda: state(sup, "api") == "ready")


@pytest.mark.linux_only  # pipe sizes are Linux's
async def test_stdout_pipes_are_enlarged_within_the_per_user_budget(write_config, monkeypatch):
    # A flooding child runs ahead of our reads in a bigger pipe; but only up to a budget, since
    # past Linux's per-user soft limit every new pipe of the user would shrink to two pages.
    from tui_manager.core import process

    monkeypatch.setattr(process, "PIPE_BUDGET", 2 * process.PIPE_SIZE)
    probe = "import fcntl; print('pipe', fcntl.fcntl(1, fcntl.F_GETPIPE_SZ), flush=True)"
    path = write_config(
        "".join(
            f'[services.s{i}]\ncommand = ["{PY}", "-c", "{probe}; import time; time.sleep(60)"]\n'
            for i in range(3)
        )
        + f"[services.fg]\ncommand = {fx('sleeper.py')}\n"
    )
    async with supervised(path) as sup:
        names = [f"s{i}" for i in range(3)]
        await wait_until(lambda: all(b"pipe" in log_bytes(sup, n) for n in names), 15)
        sizes = sorted(int(log_bytes(sup, n).split()[1]) for n in names)
        assert len(process._enlarged) == 2
    assert sizes == [65536, process.PIPE_SIZE, process.PIPE_SIZE]  # the third: the default
    assert not process._enlarged  # released as the pipes closed


async def test_two_restarts_at_once_leave_one_process(write_config):
    # Found by the soak: a dev-mode reload and a control restart of the same service, while
    # its old process took its time to stop, both launched it: two processes, one unwatched.
    path = write_config(f"""
        [services.slow]
        command = {fx("ignore_term.py")}
        stop_timeout = 0.5
        [services.fg]
        command = {fx("sleeper.py")}
    """)
    async with supervised(path) as sup:
        await wait_until(lambda: state(sup, "slow") == "ready")
        await asyncio.gather(sup.restart_service("slow", "reload"), sup.restart_service("slow"))
        assert (await sup.wait_settled("slow", 10)).state == "ready"
        spawns = [e for e in events(sup) if e["event"] == "spawn" and e["service"] == "slow"]
        spawned = [e["pid"] for e in spawns]
        assert len(spawned) == 3  # one after the other: the second restart restarts the first's
        assert [p for p in spawned if pid_alive(p)] == [row(sup, "slow").pid]
