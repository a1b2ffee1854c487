"""Warm restarts in dev mode, end to end through `up --headless --dev`: a project whose service
imports a third-party package that lives outside the project (a site dir on PYTHONPATH, as a
venv's site-packages is). The package appends its importer's pid to a file, so a warm restart
is proven by what did NOT happen: the package was not imported again."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import PY, pid_alive, wait_until_sync
from tests.integration.test_cli import Up, cli

pytestmark = pytest.mark.linux_only  # warm restarts and the subreaper need Linux

HEAVY = """
import os, sys, time
with open(os.environ["HEAVY_COUNT"], "a") as f:
    f.write(f"{os.getpid()}\\n")
GATE = os.environ["HEAVY_GATE"]
while sys.argv[:1] == ["-c"] and os.path.exists(GATE):  # only in a template: the zygote's -c
    time.sleep(0.02)
"""
THREADED = """
import threading, time
threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
"""
SERVICE = """
import sys, threading, time
import heavylib
from app import consts
COUNTER = 0
COUNTER += 1
if __name__ == "__main__":
    print(f"svc up value={consts.VALUE} counter={COUNTER} threads={threading.active_count()} "
          f"argv={sys.argv[1:]}", flush=True)
    while True:
        time.sleep(1)
"""
THREADY = """
import time
import threadlib
print("thready up", flush=True)
while True:
    time.sleep(1)
"""


class Project:
    def __init__(self, root: Path) -> None:
        self.root = root / "proj"
        site = root / "site"
        for pkg, text in (("heavylib", HEAVY), ("threadlib", THREADED)):
            (site / pkg).mkdir(parents=True)
            (site / pkg / "__init__.py").write_text(textwrap.dedent(text))
        app = self.root / "app"
        app.mkdir(parents=True)
        (app / "__init__.py").write_text("")
        (app / "consts.py").write_text("VALUE = 1\n")
        (app / "svc.py").write_text(textwrap.dedent(SERVICE))
        (app / "thready.py").write_text(textwrap.dedent(THREADY))
        (self.root / "pyproject.toml").write_text('[project]\nname = "proj"\nversion = "0"\n')
        self.count = root / "imports.txt"
        self.gate = root / "gate"
        env = f'env = {{ PYTHONPATH = "{site}", HEAVY_COUNT = "{self.count}", '
        env += f'HEAVY_GATE = "{self.gate}" }}\n'
        (self.root / "autogpt-dev.toml").write_text(
            f'[services.svc]\ncommand = "{PY} -m app.svc --flag"\nready = {{ log = "svc up" }}\n'
            + env
            + f'[services.thready]\ncommand = "{PY} -m app.thready"\n'
            + 'ready = { log = "thready up" }\n'
            + env
        )

    def heavy_imports(self) -> int:
        return len(self.count.read_text().split()) if self.count.exists() else 0

    def set_value(self, value: int) -> None:
        (self.root / "app" / "consts.py").write_text(f"VALUE = {value}\n")


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Project, Up]]:
    proj = Project(tmp_path)
    up = Up(proj.root, "--dev")
    try:
        up.wait_ready("svc", "thready")
        yield proj, up
    finally:
        if up.proc.poll() is None:
            up.proc.send_signal(signal.SIGTERM)
            assert up.finish() == 0


def services(up: Up) -> dict[str, dict[str, Any]]:
    answer = json.loads(cli("status", "--json", cwd=up.cwd).stdout)
    return {s["name"]: s for s in answer["services"]}


def warm(up: Up, name: str) -> dict[str, Any]:
    return services(up)[name]["warm"] or {}


def wait_template(up: Up, name: str, state: str = "ready", not_pid: int | None = None) -> int:
    def there() -> bool:
        w = warm(up, name)
        return w.get("state") == state and w.get("pid") not in (None, not_pid)

    wait_until_sync(there, 20, f"{name}'s template {state}: {warm(up, name)}")
    return int(warm(up, name)["pid"])


def reloads(up: Up, name: str) -> list[dict[str, Any]]:
    lines = (up.cwd / ".autogpt-dev/logs/events.jsonl").read_text().splitlines()
    events = [json.loads(x) for x in lines]
    return [e for e in events if e["event"] == "reload" and e["service"] == name]


def edit_and_wait(proj: Project, up: Up, value: int, name: str = "svc") -> dict[str, Any]:
    before = len(reloads(up, name))
    proj.set_value(value) if name == "svc" else (proj.root / "app" / f"{name}.py").write_text(
        textwrap.dedent(THREADY) + f"X = {value}\n"
    )
    wait_until_sync(lambda: len(reloads(up, name)) > before, 20, f"{name} reloaded")
    up.wait_ready(name)
    return reloads(up, name)[-1]


def test_a_warm_restart_imports_only_project_code_and_is_a_fresh_main(project):
    proj, up = project
    wait_template(up, "svc")
    assert "svc up value=1 counter=1 threads=1 argv=['--flag']" in up.output()
    cold_and_template = proj.heavy_imports()
    assert cold_and_template == 2  # the cold start, then the template
    old_pid = services(up)["svc"]["pid"]
    event = edit_and_wait(proj, up, 2)
    assert event["kind"] == "warm", event
    assert event["seconds"] > 0 and event["files"] == ["app/consts.py"]
    wait_until_sync(lambda: "svc up value=2" in up.output(), 10, "the new code's output")
    # Fresh module state, __main__ run, the same argv, no thread inherited from the template:
    assert "svc up value=2 counter=1 threads=1 argv=['--flag']" in up.output()
    assert proj.heavy_imports() == cold_and_template  # heavylib came from the template
    new_pid = services(up)["svc"]["pid"]
    assert new_pid == event["pid"] != old_pid
    assert warm(up, "svc")["last_start"] == "warm" and warm(up, "svc")["forks"] == 1
    assert "svc reloaded warm in" in up.output()
    # Every warm start closes what it used of the prepared process (its go and ready pipes):
    # a leak was one fd per reload, found by the soak (53 -> 174 fds in 25 minutes).
    manager = psutil.Process(up.proc.pid)
    fds = manager.num_fds()
    for value in (3, 4, 5):
        assert edit_and_wait(proj, up, value)["kind"] == "warm"
    assert manager.num_fds() <= fds
    # A forked service is stopped and restarted like any other.
    assert cli("restart", "svc", cwd=up.cwd).returncode == 0
    assert services(up)["svc"]["pid"] not in (new_pid, None)
    assert not pid_alive(new_pid)


def test_a_thread_started_at_import_by_a_package_forces_a_cold_start_with_the_reason(project):
    proj, up = project
    wait_template(up, "svc")  # the positive control: the same project gets a template for svc
    wait_until_sync(lambda: warm(up, "thready").get("state") == "failed", 20, "refused")
    assert "thread" in warm(up, "thready")["reason"]
    event = edit_and_wait(proj, up, 2, name="thready")
    assert event["kind"] == "cold" and "thread" in event["why"], event
    assert "thready reloaded cold" in up.output()


def test_an_edit_to_pyproject_makes_the_next_start_cold_and_rebuilds_the_template(project):
    proj, up = project
    first = wait_template(up, "svc")
    (proj.root / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0"\ndependencies = ["heavylib"]\n'
    )
    second = wait_template(up, "svc", not_pid=first)  # rebuilt in the background
    event = edit_and_wait(proj, up, 2)
    assert event["kind"] == "cold" and "pyproject.toml" in event["why"], event
    assert warm(up, "svc")["pid"] == second
    assert edit_and_wait(proj, up, 3)["kind"] == "warm"  # and the rebuilt one serves


def test_a_killed_template_gives_a_cold_restart_and_is_rebuilt(project):
    proj, up = project
    first = wait_template(up, "svc")
    proj.gate.touch()  # the rebuilt template will wait at its import until the gate opens
    os.kill(first, signal.SIGKILL)
    wait_template(up, "svc", state="building", not_pid=first)
    event = edit_and_wait(proj, up, 2)
    assert event["kind"] == "cold" and "importing" in event["why"], event
    proj.gate.unlink()
    wait_template(up, "svc", not_pid=first)
    assert edit_and_wait(proj, up, 3)["kind"] == "warm"


def test_kill_9_of_the_manager_leaves_no_template_and_no_forked_service(project):
    proj, up = project
    template = wait_template(up, "svc")
    assert edit_and_wait(proj, up, 2)["kind"] == "warm"
    pids = [p["pid"] for p in services(up).values()] + [template]
    assert all(pid_alive(p) for p in pids)
    up.proc.send_signal(signal.SIGKILL)
    up.proc.wait(5)
    wait_until_sync(lambda: not any(pid_alive(p) for p in pids), 10, f"all of {pids} gone")


def test_warm_false_and_a_non_python_command_start_cold_and_say_why(tmp_path: Path):
    (tmp_path / "autogpt-dev.toml").write_text(
        "[services.sh]\ncommand = \"sh -c 'echo sh up; exec sleep 60'\"\n"
        'ready = { log = "sh up" }\n'
        f'[services.keep]\ncommand = "{PY} -m http.server 0"\nwarm = false\n'
    )
    up = Up(tmp_path, "--dev")
    try:
        up.wait_ready("sh")
        assert cli("restart", "sh", "keep", cwd=up.cwd).returncode == 0
        rows = services(up)
        assert rows["sh"]["warm"]["last_cold_reason"] == "not a Python command (sh)"
        assert rows["keep"]["warm"]["last_cold_reason"] == "warm = false"
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_a_broken_edit_fails_as_a_cold_start_would_and_the_fix_is_warm_again(project):
    proj, up = project
    wait_template(up, "svc")
    (proj.root / "app" / "consts.py").write_text("VALUE = (\n")  # imported ahead, fails there
    wait_until_sync(lambda: "SyntaxError" in up.output(), 20, "the traceback")
    assert 'app/consts.py", line 1' in up.output()  # the real import's traceback, as cold
    event = edit_and_wait(proj, up, 3)
    assert event["kind"] == "warm", event
    wait_until_sync(lambda: "svc up value=3 counter=1" in up.output(), 10, "fixed")
