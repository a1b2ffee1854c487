"""The seed's Python API, fixed: AppProcess and run_processes, against real forked children."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import PY, pid_alive, wait_until_sync
from tui_manager import AppProcess, run_processes

REPO = Path(__file__).resolve().parents[2]


class Writer(AppProcess):
    """Writes its pid to a file, then idles (or exits with `code`)."""

    code: int | None = None

    def __init__(self, where: Path) -> None:
        super().__init__()
        self.where = where

    def run(self) -> object:
        (self.where / f"{self.service_name}.pid").write_text(str(os.getpid()))
        print(f"{self.service_name} level={os.environ.get('LOG_LEVEL')}", flush=True)
        if self.code is not None:
            return self.code
        while True:
            time.sleep(1)


def test_service_name_defaults_to_the_class_and_set_log_level_chains(tmp_path):
    w = Writer(tmp_path)
    assert w.service_name == "Writer"
    assert w.set_log_level("warning") is w and w.log_level == "WARNING"
    assert w.service_config()["env"] == {"LOG_LEVEL": "WARNING"}


def test_stop_is_idempotent_and_safe_before_start(tmp_path):
    w = Writer(tmp_path)
    w.stop()
    w.stop()


def test_background_start_and_stop_kill_the_child(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = Writer(tmp_path)
    w.start(background=True)
    pidfile = tmp_path / "Writer.pid"
    wait_until_sync(pidfile.exists, 10)
    pid = int(pidfile.read_text())
    assert pid_alive(pid) and pid != os.getpid()
    w.stop()
    assert not pid_alive(pid)
    w.stop()  # again: still fine


def test_context_manager_stops_on_exit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Writer(tmp_path) as w:
        wait_until_sync((tmp_path / "Writer.pid").exists, 10)
        pid = int((tmp_path / "Writer.pid").read_text())
        assert w.service_name == "Writer"
    assert not pid_alive(pid)


def test_foreground_start_returns_the_exit_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = Writer(tmp_path)
    w.code = 3
    assert w.start(background=False) == 3


def test_run_processes_orders_by_dependencies_and_returns_the_foreground_code(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.chdir(tmp_path)

    class Db(Writer):
        ready = {"log": "level="}

    class Api(Writer):
        depends_on = ["Db"]

    class Exec(Writer):
        depends_on = ["Api"]
        code = 7

    class Broken(Writer):
        def stop(self) -> None:
            raise RuntimeError("boom")

    procs = [Db(tmp_path).set_log_level("warning"), Broken(tmp_path), Api(tmp_path), Exec(tmp_path)]
    with caplog.at_level(logging.ERROR, logger="tui_manager"):
        assert run_processes(*procs) == 7
    assert "[Broken] unable to stop: boom" in caplog.text  # logged, and the loop went on
    events = (tmp_path / ".autogpt-dev/logs/events.jsonl").read_text()
    spawns = [line for line in events.splitlines() if '"spawn"' in line]
    order = [s.split('"service": "')[1].split('"')[0] for s in spawns]
    assert order.index("Db") < order.index("Api") < order.index("Exec")
    assert "Db level=WARNING" in (tmp_path / ".autogpt-dev/logs/Db.log").read_text()
    for name in ("Db", "Api", "Broken"):
        assert not pid_alive(int((tmp_path / f"{name}.pid").read_text()))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_the_seed_example_stops_in_reverse_order_on_a_signal(tmp_path, sig):
    proc = subprocess.Popen(
        [PY, str(REPO / "examples/seed_app.py")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log = tmp_path / ".autogpt-dev/logs/events.jsonl"
    wait_until_sync(
        lambda: (
            log.exists()
            and "ExecutionManager" in log.read_text()
            and '"ready"' in log.read_text().split("ExecutionManager")[-1]
        ),
        20,
    )
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    stops = [
        line.split("stopping ")[1].split()[0]
        for line in out.splitlines()
        if "| stopping " in line and "(shutdown)" in line
    ]
    assert stops[0] == "ExecutionManager" and stops[-1] == "DatabaseManager"


def test_a_script_defining_processes_in_main_works(tmp_path):
    script = tmp_path / "app.py"
    script.write_text(
        textwrap.dedent("""
        from tui_manager import AppProcess, run_processes

        class Hello(AppProcess):
            def run(self):
                print("hello from", self.service_name, flush=True)

        if __name__ == "__main__":
            raise SystemExit(run_processes(Hello()))
    """)
    )
    r = subprocess.run([PY, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "Hello  | hello from Hello" in r.stdout
