"""The seed's API as upstream AutoGPT's own code uses it: subclasses written in its style
(`service_name` as a property, `run()` and `cleanup()`, `super().__init__()` or no __init__ at
all), against real processes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import PY, pid_alive, wait_until_sync
from tui_manager import AppProcess, run_processes

REPO = Path(__file__).resolve().parents[2]


class DatabaseManager(AppProcess):
    """Upstream's shape: an __init__ that calls super, state set up in run(), cleanup()."""

    ready = {"log": "level="}  # ours: dependents wait until it has really started

    def __init__(self, where: Path) -> None:
        super().__init__()
        self.where = where
        self.pool: list[str] | None = None

    @property
    def service_name(self) -> str:
        return "DatabaseManager"

    def run(self) -> None:
        self.pool = ["conn"]
        (self.where / f"{self.service_name}.pid").write_text(str(os.getpid()))
        print(f"{self.service_name} level={os.environ.get('LOG_LEVEL')}", flush=True)
        while True:
            time.sleep(1)

    def cleanup(self) -> None:
        with (self.where / "cleanups").open("a") as f:
            f.write(f"{self.service_name} {os.getpid()} pool={self.pool}\n")


class Scheduler(DatabaseManager):
    depends_on = ["DatabaseManager"]

    @property
    def service_name(self) -> str:
        return "Scheduler"


class ExecutionManager(DatabaseManager):
    depends_on = ["Scheduler"]
    ready = None
    exit_with: int | None = None

    @property
    def service_name(self) -> str:
        return "ExecutionManager"

    def run(self) -> int | None:
        (self.where / f"{self.service_name}.pid").write_text(str(os.getpid()))
        if self.exit_with is not None:
            return self.exit_with
        while True:
            time.sleep(1)


class NoInit(AppProcess):
    """No __init__ at all, a class-level name, no cleanup: new code needs nothing more."""

    service_name = "no-init"
    where = "."

    def run(self) -> None:
        print("quiet please", flush=True)
        (Path(self.where) / "no-init.pid").write_text(str(os.getpid()))
        while True:
            time.sleep(1)


class SlowCleanup(DatabaseManager):
    @property
    def service_name(self) -> str:
        return "SlowCleanup"

    def cleanup(self) -> None:
        (self.where / "cleanup-started").write_text("")
        deadline = time.monotonic() + 5
        while not (self.where / "second-signal-sent").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the second signal lands during cleanup
        (self.where / "cleanup-finished").write_text("")


class Broken(DatabaseManager):
    @property
    def service_name(self) -> str:
        return "Broken"

    def stop(self) -> None:
        raise RuntimeError("boom")


def cleanups(where: Path) -> list[str]:
    f = where / "cleanups"
    return f.read_text().splitlines() if f.exists() else []


def test_service_name_as_a_property_or_attribute_and_set_log_level_chains(tmp_path):
    db = DatabaseManager(tmp_path)
    assert db.service_name == "DatabaseManager" and NoInit().service_name == "no-init"
    assert db.set_log_level("warning") is db and db.log_level == "WARNING"
    assert db.service_config()["env"] == {"LOG_LEVEL": "WARNING"}


def test_stop_is_idempotent_and_safe_before_start(tmp_path):
    db = DatabaseManager(tmp_path)
    db.stop()
    db.stop()


def test_background_start_returns_the_childs_pid_and_stop_runs_cleanup_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = DatabaseManager(tmp_path)
    pid = db.start(background=True)
    assert pid and pid != os.getpid() and pid_alive(pid)
    wait_until_sync((tmp_path / "DatabaseManager.pid").exists, 10)
    assert int((tmp_path / "DatabaseManager.pid").read_text()) == pid  # run() is in that pid
    db.stop()
    assert not pid_alive(pid)
    # cleanup() ran once, in the child, with the state run() built there.
    assert cleanups(tmp_path) == [f"DatabaseManager {pid} pool=['conn']"]
    db.stop()  # again: still fine
    assert len(cleanups(tmp_path)) == 1


def test_context_manager_stops_on_exit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with DatabaseManager(tmp_path) as db:
        wait_until_sync((tmp_path / "DatabaseManager.pid").exists, 10)
        pid = int((tmp_path / "DatabaseManager.pid").read_text())
        assert db.service_name == "DatabaseManager"
    assert not pid_alive(pid) and len(cleanups(tmp_path)) == 1


def test_silent_discards_the_childs_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = tmp_path / ".autogpt-dev/logs/no-init.log"
    p = NoInit()
    p.where = str(tmp_path)
    p.start(background=True)  # the positive control: without silent, the line is there
    wait_until_sync(lambda: log.exists() and "quiet please" in log.read_text(), 10)
    p.stop()
    log.unlink()
    (tmp_path / "no-init.pid").unlink()
    p.start(background=True, silent=True)
    wait_until_sync((tmp_path / "no-init.pid").exists, 10)  # it ran...
    p.stop()
    assert "quiet please" not in log.read_text()  # ...and said nothing


def test_a_second_signal_during_cleanup_is_reported_not_fatal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = SlowCleanup(tmp_path)
    pid = p.start(background=True)
    wait_until_sync((tmp_path / "SlowCleanup.pid").exists, 10)
    os.kill(pid, signal.SIGTERM)
    wait_until_sync((tmp_path / "cleanup-started").exists, 10)
    os.kill(pid, signal.SIGTERM)
    (tmp_path / "second-signal-sent").write_text("")
    wait_until_sync((tmp_path / "cleanup-finished").exists, 10)  # it finished its cleanup
    log = tmp_path / ".autogpt-dev/logs/SlowCleanup.log"
    wait_until_sync(lambda: "cleanup is already underway" in log.read_text(), 10)
    assert f"[SlowCleanup] Received exit signal {int(signal.SIGTERM)}" in log.read_text()
    p.stop()


def test_foreground_start_runs_the_body_here_and_returns_0(tmp_path):
    em = ExecutionManager(tmp_path)
    em.exit_with = 3
    assert em.start(background=False) == 0  # as upstream: no child, the body ran here
    assert int((tmp_path / "ExecutionManager.pid").read_text()) == os.getpid()
    assert cleanups(tmp_path) == ["ExecutionManager " + str(os.getpid()) + " pool=None"]


def test_run_processes_orders_by_dependencies_and_returns_the_foreground_code(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.chdir(tmp_path)
    em = ExecutionManager(tmp_path)
    em.exit_with = 7
    procs = [
        DatabaseManager(tmp_path).set_log_level("warning"),
        Broken(tmp_path),
        Scheduler(tmp_path),
        em,
    ]
    em.depends_on = ["Scheduler", "Broken"]  # (so every background one has run when it ends)
    with caplog.at_level(logging.ERROR, logger="tui_manager"):
        assert run_processes(*procs) == 7
    assert "[Broken] unable to stop: boom" in caplog.text  # logged, and the loop went on
    events = (tmp_path / ".autogpt-dev/logs/events.jsonl").read_text()
    spawns = [line for line in events.splitlines() if '"spawn"' in line]
    order = [s.split('"service": "')[1].split('"')[0] for s in spawns]
    assert (
        order.index("DatabaseManager") < order.index("Scheduler") < order.index("ExecutionManager")
    )
    log = (tmp_path / ".autogpt-dev/logs/DatabaseManager.log").read_text()
    assert "DatabaseManager level=WARNING" in log
    for name in ("DatabaseManager", "Scheduler", "Broken"):
        assert not pid_alive(int((tmp_path / f"{name}.pid").read_text()))
    # Every background service ran its cleanup() in its own process when the stack stopped.
    cleaned = {line.split()[0] for line in cleanups(tmp_path)}
    assert {"DatabaseManager", "Scheduler", "Broken"} <= cleaned


UPSTREAM_APP = """
import os, sys, time
from pathlib import Path
from tui_manager import AppProcess, run_processes

class Service(AppProcess):
    def run(self):
        print(self.service_name, "up", flush=True)
        while True:
            time.sleep(1)

    def cleanup(self):
        with open("cleanups", "a") as f:
            f.write(self.service_name + "\\n")

class DatabaseManager(Service):
    @property
    def service_name(self):
        return "DatabaseManager"

class ExecutionManager(Service):
    depends_on = ["DatabaseManager"]
    ready = {"log": "up"}

    @property
    def service_name(self):
        return "ExecutionManager"

if __name__ == "__main__":
    sys.exit(run_processes(DatabaseManager(), ExecutionManager()))
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_run_processes_runs_every_cleanup(tmp_path, sig):
    (tmp_path / "app.py").write_text(UPSTREAM_APP)
    # -W error: on Python 3.12+ forking a process with threads warns; nothing may do that here.
    proc = subprocess.Popen(
        [PY, "-W", "error::DeprecationWarning", "app.py"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    logs = tmp_path / ".autogpt-dev/logs"
    wait_until_sync(
        lambda: all(
            (logs / f"{n}.log").exists() and "up" in (logs / f"{n}.log").read_text()
            for n in ("DatabaseManager", "ExecutionManager")
        ),
        20,
        "both running",
    )
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert sorted((tmp_path / "cleanups").read_text().split()) == [
        "DatabaseManager",
        "ExecutionManager",
    ]
    assert "DeprecationWarning" not in out and "Traceback" not in out


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


def test_an_object_that_cannot_be_pickled_fails_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = DatabaseManager(tmp_path)
    db.lock = __import__("threading").Lock()  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="cannot be pickled"):
        db.start(background=True)
    assert sys.modules  # (the test process is fine)


UNGUARDED_DEFINES = """\
import os
from tui_manager import AppProcess, run_processes

print("top level of app.py ran in", os.getpid(), flush=True)


class Scheduler(AppProcess):
    def run(self):
        print("Scheduler running in", os.getpid(), flush=True)


class ExecutionManager(AppProcess):
    def run(self):
        print("ExecutionManager running", flush=True)


raise SystemExit(run_processes(Scheduler(), ExecutionManager()))  # no __main__ guard
"""

SERVICES_MODULE = """\
import os
import time
from tui_manager import AppProcess


class Scheduler(AppProcess):
    def run(self):
        print("Scheduler running in", os.getpid(), flush=True)
        open("scheduler.ran", "w").close()


class ExecutionManager(AppProcess):
    def run(self):
        # the stack ends with this one: wait (with a deadline) until the Scheduler has run
        deadline = time.monotonic() + 30
        while not os.path.exists("scheduler.ran") and time.monotonic() < deadline:
            time.sleep(0.01)
        print("ExecutionManager running in", os.getpid(), flush=True)
"""

UNGUARDED_IMPORTS = """\
import os
from backend_services import ExecutionManager, Scheduler
from tui_manager import run_processes

print("top level of app.py ran in", os.getpid(), flush=True)
raise SystemExit(run_processes(Scheduler(), ExecutionManager()))  # no __main__ guard
"""


def test_an_unguarded_script_defining_its_classes_is_refused_with_one_line(tmp_path):
    """Each child must import the script to find the class; the script would start the stack
    again there. Stock multiprocessing raises a RuntimeError; ours says it in one line, and
    nothing is started twice."""
    script = tmp_path / "app.py"
    script.write_text(UNGUARDED_DEFINES)
    r = subprocess.run([PY, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    line = (
        "autogpt-dev: app.py starts processes when it is imported, and each service's process"
        ' imports it again to find its class: put that code under `if __name__ == "__main__":`'
    )
    assert line in out and "Traceback" not in out, out
    assert "Scheduler running" not in out and "ExecutionManager running" not in out, out
    # the children did run the top level (as multiprocessing's would), but started nothing
    assert out.count("top level of app.py ran") >= 2, out


def test_an_unguarded_script_whose_classes_live_in_modules_is_not_run_again(tmp_path):
    """AutoGPT's shape: app.py imports its AppProcess classes from their modules. The children
    unpickle them from those modules and never run app.py: it runs once, the stack works."""
    (tmp_path / "backend_services.py").write_text(SERVICES_MODULE)
    script = tmp_path / "app.py"
    script.write_text(UNGUARDED_IMPORTS)
    r = subprocess.run([PY, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert out.count("top level of app.py ran") == 1, out
    assert "Scheduler running in" in out and "ExecutionManager running in" in out, out
    parent = out.split("top level of app.py ran in ")[1].split()[0]
    assert f"Scheduler running in {parent}" not in out  # its own process
