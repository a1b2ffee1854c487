"""`autogpt-dev` as a user runs it: real `up` processes, signals, kill -9, the control socket."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PY, free_port, fx, pid_alive, wait_until_sync
from tui_manager.base import paths
from tui_manager.control.statedir import StateDir

STACK = f"""
[services.db]
command = {fx("sleeper.py", "db")}
[services.api]
command = {fx("sleeper.py", "api")}
depends_on = ["db"]
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["api"]
"""


def cli(*args: str, cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "tui_manager", *args], cwd=cwd, capture_output=True, text=True, timeout=60, **kw
    )  # type: ignore[call-overload]


class Up:
    """A headless `up` in the background, its output in a file."""

    def __init__(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.cwd = cwd
        self.out = cwd / "up.out"
        with self.out.open("w") as out:  # the child has its own copy of the descriptor
            self.proc = subprocess.Popen(
                [PY, "-m", "tui_manager", "up", "--headless", *args],
                cwd=cwd,
                env=None if env is None else {**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.out.read_text()

    def wait_ready(self, *names: str, timeout: float = 15) -> None:
        wait_until_sync(
            lambda: all(f"{n} ready" in self.output() for n in names),
            timeout,
            f"{names} ready; output:\n{self.output()}",
        )

    def pids(self) -> dict[str, int]:
        answer = json.loads(cli("status", "--json", cwd=self.cwd).stdout)
        return {s["name"]: s["pid"] for s in answer["services"]}

    def finish(self, timeout: float = 20) -> int:
        return self.proc.wait(timeout)


@pytest.fixture
def stack(write_config) -> Iterator[Up]:
    path = write_config(STACK)
    up = Up(path.parent)
    try:
        up.wait_ready("fg")
        yield up
    finally:
        if up.proc.poll() is None:
            up.proc.send_signal(signal.SIGTERM)
            up.finish()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signal_stops_in_reverse_order_with_exit_0(stack: Up, sig: signal.Signals):
    pids = stack.pids()
    stack.proc.send_signal(sig)
    assert stack.finish() == 0
    assert not any(pid_alive(p) for p in pids.values())
    out = stack.output()
    assert out.index("stopping fg") < out.index("stopping api") < out.index("stopping db")


def test_kill_9_of_the_manager_kills_every_child_within_2s(write_config, tmp_path):
    pidfile = tmp_path / "gc.pid"
    path = write_config(
        STACK
        + f"""
[services.forker]
command = {fx("grandchild_setsid.py", pidfile, "ignore")}
[services.stubborn]
command = {fx("ignore_term.py")}
"""
    )
    up = Up(path.parent)
    up.wait_ready("fg", "stubborn")
    wait_until_sync(pidfile.exists)
    pids = [*up.pids().values(), int(pidfile.read_text())]
    assert all(pid_alive(p) for p in pids)
    up.proc.kill()
    up.finish()
    wait_until_sync(lambda: not any(pid_alive(p) for p in pids), 2.0, "children gone")


def test_second_sigint_kills_at_once_with_130(write_config):
    path = write_config(f"""
[services.stubborn]
command = {fx("ignore_term.py")}
stop_timeout = 30
""")
    up = Up(path.parent)
    up.wait_ready("stubborn")
    pid = up.pids()["stubborn"]
    up.proc.send_signal(signal.SIGINT)
    wait_until_sync(lambda: "stopping stubborn" in up.output())
    up.proc.send_signal(signal.SIGINT)
    assert up.finish(5) == 130
    wait_until_sync(lambda: not pid_alive(pid), 2)


def test_status_restart_stop_start_logs_and_down(stack: Up):
    status = cli("status", cwd=stack.cwd)
    assert status.returncode == 0
    rows = status.stdout.splitlines()
    assert rows[0].split()[:3] == ["NAME", "STATE", "PID"]
    assert [r.split()[0] for r in rows[1:]] == ["db", "api", "fg"]
    before = stack.pids()

    r = cli("restart", "api", cwd=stack.cwd)
    assert r.returncode == 0 and r.stdout.strip() == "api: ready"
    after = stack.pids()
    assert after["api"] != before["api"] and after["db"] == before["db"]

    assert cli("stop", "api", cwd=stack.cwd).stdout.strip() == "api: stopped (user)"
    assert stack.pids()["api"] is None
    assert cli("start", "api", cwd=stack.cwd).stdout.strip() == "api: ready"

    logs = cli("logs", "api", "-n", "1", cwd=stack.cwd)
    assert logs.stdout == "started api\n"

    events = (stack.cwd / ".autogpt-dev/logs/events.jsonl").read_text().splitlines()
    reasons = [json.loads(e).get("reason") for e in events if '"restart"' in e]
    assert reasons == ["user"]

    down = cli("down", cwd=stack.cwd)
    assert down.returncode == 0
    assert stack.finish() == 0


def test_status_json_schema_and_socket_mode(stack: Up):
    answer = json.loads(cli("status", "--json", cwd=stack.cwd).stdout)
    assert answer["ok"] is True and answer["manager"]["pid"] == stack.proc.pid
    keys = {
        "name",
        "state",
        "pid",
        "uptime",
        "restarts",
        "exit_code",
        "exit_signal",
        "reason",
        "probe",
        "foreground",
        "depends_on",
        "started_at",
        "ready_at",
        "spawns",
        "log_error",
        "warm",
        "listen",
        "last_error",
    }
    assert all(set(s) == keys for s in answer["services"])
    sock = stack.cwd / ".autogpt-dev/control.sock"
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert (stack.cwd / ".autogpt-dev/manager.pid").read_text().strip() == str(stack.proc.pid)


def test_unknown_service_exits_2_listing_known(stack: Up):
    r = cli("restart", "nope", cwd=stack.cwd)
    assert r.returncode == 2
    assert "unknown service 'nope' (known: api, db, fg)" in r.stderr


def test_second_up_is_refused_naming_the_pid(stack: Up):
    r = cli("up", "--headless", cwd=stack.cwd)
    assert r.returncode == 1
    assert f"another autogpt-dev manager (pid {stack.proc.pid}) is already running" in r.stderr
    assert "Traceback" not in r.stderr


def test_no_instance_exits_1_but_logs_still_print(write_config):
    path = write_config(STACK)
    logs = path.parent / ".autogpt-dev/logs"
    logs.mkdir(parents=True)
    (logs / "db.log").write_bytes(b"one\ntwo\nthree\n")
    r = cli("status", cwd=path.parent)
    assert r.returncode == 1 and "no autogpt-dev manager is running" in r.stderr
    assert cli("down", cwd=path.parent).returncode == 1
    r = cli("logs", "db", "-n", "2", cwd=path.parent)
    assert r.returncode == 0 and r.stdout == "two\nthree\n"


def test_stale_socket_and_pid_file_are_replaced(write_config):
    path = write_config(STACK)
    state = path.parent / ".autogpt-dev"
    state.mkdir()
    (state / "manager.pid").write_text("999999\n")
    (state / "control.sock").write_text("stale")
    up = Up(path.parent)
    try:
        up.wait_ready("fg")
        assert cli("status", cwd=path.parent).returncode == 0
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_deep_state_dir_falls_back_to_a_short_socket_path(tmp_path, write_config):
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (deep / "autogpt-dev.toml").write_text(STACK)
    up = Up(deep)
    try:
        up.wait_ready("fg")
        pointer = deep / ".autogpt-dev/control.sock.path"
        assert pointer.exists()
        assert len(pointer.read_text().strip()) <= paths.MAX_SOCKET_PATH
        assert cli("status", cwd=deep).returncode == 0
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_foreground_exit_code_is_ups_exit_code(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('crash.py', 9)}\n")
    r = cli("up", "--headless", cwd=path.parent)
    assert r.returncode == 9


@pytest.mark.parametrize(
    "body,needle",
    [
        ('[services.a]\ncommand = "x"\ncolor = 1\n', "[services.a] color: unknown key"),
        ("[services.a\n", "invalid TOML"),
        ('[services.a]\ncommand = "x"\ndepends_on = ["a"]\n', "depends on itself: a -> a"),
    ],
)
def test_bad_config_exits_2_with_one_line_and_no_traceback(write_config, body, needle):
    path = write_config(body)
    for cmd in (["check"], ["up", "--headless"]):
        r = cli(*cmd, cwd=path.parent)
        assert r.returncode == 2
        assert needle in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    assert not (path.parent / ".autogpt-dev").exists()  # nothing started


def test_check_prints_waves_and_headless_prefixes(write_config):
    path = write_config(STACK)
    r = cli("check", cwd=path.parent)
    assert r.returncode == 0
    assert r.stdout.splitlines()[1:-2] == [
        "start order:",
        "  1. db",
        "  2. api",
        "  3. fg (foreground)",
    ]
    assert r.stdout.splitlines()[-2].startswith("python: ")
    assert r.stdout.splitlines()[-1].startswith("platform: ")


def test_headless_line_format_and_no_colour_in_pipes(write_config):
    path = write_config(f"[services.fg]\ncommand = {fx('crash.py', 0)}\n")
    r = cli("up", cwd=path.parent, env={**os.environ, "NO_COLOR": "1"})
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert any(ln[8:] == " fg     | crashing with 0" for ln in lines), lines
    assert all(ln[2] == ":" and ln[5] == ":" for ln in lines)
    assert "\x1b[" not in r.stdout


def test_version_and_help():
    assert cli("--version", cwd=Path.cwd()).stdout.startswith("autogpt-dev ")
    assert "examples:" in cli("--help", cwd=Path.cwd()).stdout


def test_statedir_lock_is_released_when_holder_dies(tmp_path):
    state = StateDir(tmp_path / "s")
    state.acquire()
    assert state.is_locked()
    state.release()
    assert not state.is_locked()


def test_the_seed_example_config_runs_and_stops_in_reverse_order(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "SEED_DB_PORT": str(free_port()),
        "SEED_API_PORT": str(free_port()),
        "AUTOGPT_DEV_STATE_DIR": str(tmp_path / "state"),
        "PATH": f"{Path(PY).parent}{os.pathsep}{os.environ['PATH']}",
    }
    out = tmp_path / "out.txt"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [PY, "-m", "tui_manager", "up", "--headless", "-c", str(repo / "examples/seed.toml")],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    wait_until_sync(lambda: "execution_manager ready" in out.read_text(), 20)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0
    text = out.read_text()
    assert (
        text.index("stopping execution_manager")
        < text.index("stopping agent_server")
        < text.index("stopping database_manager")
    )
    assert "INFO database_manager" not in text  # its LOG_LEVEL is warning, from the config
