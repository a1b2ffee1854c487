"""`init` with nothing to import reads the project (tests/fixtures/projects, written in the
shapes real projects have): the seed's run_processes(...) of AppProcess classes, Django, FastAPI,
Flask, Celery, or a commented starter. What it writes passes `check` and runs under `up`."""

from __future__ import annotations

import shutil
import signal
import stat
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, free_port, wait_until_sync
from tests.integration.test_cli import Up, cli
from tests.integration.test_import import run
from tui_manager.config import load

PROJECTS = FIXTURES / "projects"
SIX = [
    "DatabaseManager",
    "Scheduler",
    "NotificationManager",
    "WebsocketServer",
    "AgentServer",
    "ExecutionManager",
]


def project(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / name
    shutil.copytree(PROJECTS / name, work)
    monkeypatch.chdir(work)
    return work


def on_free_port(work: Path) -> int:
    """The frameworks are written on 8000: moved to a free port for the test."""
    port = free_port()
    config = work / "autogpt-dev.toml"
    config.write_text(config.read_text().replace("8000", str(port)))
    return port


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.read().decode()


def test_the_seeds_call_in_upstreams_shape_becomes_six_services_that_run(
    tmp_path, monkeypatch, capsys
):
    work = project("autogpt-backend", tmp_path, monkeypatch)
    code, out, err = run(capsys, "init")
    assert code == 0, err
    assert "found: the seed's run_processes(...) in backend/app.py:31 (main)" in out
    assert "foreground: ExecutionManager (the last process of the call" in out
    cfg = load(work / "autogpt-dev.toml")
    assert list(cfg.services) == SIX and cfg.foreground == "ExecutionManager"
    commands = {n: s.command for n, s in cfg.services.items()}
    assert commands == {
        "DatabaseManager": "python -m backend.db",
        "Scheduler": "python -m backend.scheduler",
        "NotificationManager": "python -m backend.notification",
        "WebsocketServer": "python -m backend.ws",
        "AgentServer": "python -m backend.rest",
        "ExecutionManager": "python -m backend.exec",
    }
    assert cfg.services["DatabaseManager"].env == {"LOG_LEVEL": "WARNING"}  # set_log_level
    text = (work / "autogpt-dev.toml").read_text()
    assert "#   cli, format, lint, test: dev tools" in text  # listed, never a service
    assert "app = backend.app:main" not in text  # the call itself explains that one
    assert "Also found, not added (the run_processes call is the stack): FastAPI app" in text

    port = free_port()
    monkeypatch.setenv("AGENT_API_PORT", str(port))
    up = Up(work)
    try:
        up.wait_ready(*SIX)
        # each service prints on its own clock: wait for both lines, in either order
        for line in (
            "ExecutionManager serving",
            "[DatabaseManager] Starting... (LOG_LEVEL=WARNING)",
        ):
            wait_until_sync(lambda line=line: line in up.output(), 15, up.output())
        wait_until_sync(lambda: f"127.0.0.1:{port}" in up.output(), 20, up.output())
        assert get(f"http://127.0.0.1:{port}/health") == (200, '{"status":"healthy"}')
        up.proc.send_signal(signal.SIGINT)  # Ctrl+C
        assert up.finish() == 0
    finally:
        if up.proc.poll() is None:
            up.proc.kill()
            up.finish()
    assert up.output().count("Terminated") == 6  # each ran its cleanup


def test_an_installed_console_script_is_the_command(tmp_path, monkeypatch, capsys):
    work = project("autogpt-backend", tmp_path, monkeypatch)
    bin_dir = work / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (work / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    script = bin_dir / "rest"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    assert run(capsys, "init")[0] == 0
    cfg = load(work / "autogpt-dev.toml")
    assert cfg.services["AgentServer"].command == "rest"  # poetry installed it
    assert cfg.services["WebsocketServer"].command == "python -m backend.ws"  # `ws` is not


def test_calls_built_at_run_time_write_what_can_be_read_and_report_the_rest(
    tmp_path, monkeypatch, capsys
):
    work = project("seed-built", tmp_path, monkeypatch)
    code, _out, err = run(capsys, "init")
    assert code == 0, err
    assert "backend/app.py:14 (main): *plugins() is built at run time: not read" in err
    cfg = load(work / "autogpt-dev.toml")
    # *BACKGROUND is a literal list in another module: read; the entry runs each class as
    # the call builds it, with the seed API
    assert list(cfg.services) == ["DatabaseManager", "Scheduler", "ExecutionManager"]
    assert cfg.services["DatabaseManager"].command == (
        "python",
        "-c",
        "from backend.services import DatabaseManager; DatabaseManager().start()",
    )
    assert set(cfg.services["ExecutionManager"].depends_on) == {"DatabaseManager"}
    up = Up(work)
    try:
        up.wait_ready("DatabaseManager", "Scheduler", "ExecutionManager")
        wait_until_sync(lambda: "ExecutionManager up" in up.output(), 15, up.output())
    finally:
        assert cli("down", cwd=work).returncode == 0
        assert up.finish() == 0


@pytest.mark.parametrize(
    ("name", "service", "path", "needle"),
    [
        ("django-site", "web", "/", "The install worked successfully!"),
        ("fastapi-app", "api", "/items/", '["a","b"]'),
        ("flask-app", "web", "/", "hello from flask"),
    ],
)
def test_a_framework_skeleton_becomes_a_service_that_gets_ready(
    tmp_path, monkeypatch, capsys, name, service, path, needle
):
    pytest.importorskip({"django-site": "django", "fastapi-app": "fastapi"}.get(name, "flask"))
    work = project(name, tmp_path, monkeypatch)
    code, out, err = run(capsys, "init")
    assert code == 0 and "found: " in out, err
    cfg = load(work / "autogpt-dev.toml")
    assert list(cfg.services) == [service] and cfg.foreground == service
    probe = cfg.services[service].ready
    assert probe is not None and (probe.http or "").startswith("http://127.0.0.1:8000/")
    port = on_free_port(work)
    up = Up(work)
    try:
        up.wait_ready(service, timeout=30)  # the http probe answered
        status, body = get(f"http://127.0.0.1:{port}{path}")
        assert status == 200 and needle in body
    finally:
        assert cli("down", cwd=work).returncode == 0
        assert up.finish() == 0


def test_celery_as_a_dependency_gives_a_worker_and_beat(tmp_path, monkeypatch, capsys):
    work = project("celery-app", tmp_path, monkeypatch)
    code, out, _err = run(capsys, "init")
    assert code == 0 and "(celery is a dependency)" in out
    cfg = load(work / "autogpt-dev.toml")
    assert list(cfg.services) == ["beat", "worker"] and cfg.foreground == "worker"
    assert (
        cfg.services["worker"].command == "python -m celery -A proj.celery worker --loglevel INFO"
    )
    worker_ready = cfg.services["worker"].ready
    assert worker_ready is not None and worker_ready.log == r"celery@\S+ ready\."


def test_an_empty_folder_gets_a_commented_starter_that_runs(tmp_path, monkeypatch, capsys):
    work = tmp_path / "empty"
    work.mkdir()
    monkeypatch.chdir(work)
    up = cli("up", "--headless", cwd=work)  # no config: its one line names init
    assert up.returncode == 2 and len(up.stderr.splitlines()) == 1
    assert "`autogpt-dev init` writes one" in up.stderr
    code, out, _err = run(capsys, "init")
    assert code == 0 and "found: nothing recognised: a starter" in out
    text = (work / "autogpt-dev.toml").read_text()
    for key in ("command", "depends_on", "ready", "foreground", "--dev"):
        assert key in text  # explained in the comments
    assert run(capsys, "check")[0] == 0
    started = Up(work)
    try:
        started.wait_ready("hello")
        assert "hello from autogpt-dev" in started.output()
    finally:
        assert cli("down", cwd=work).returncode == 0
        assert started.finish() == 0
    # never overwritten without --force
    (work / "autogpt-dev.toml").write_text("# mine\n")
    code, _out, err = run(capsys, "init")
    assert code == 1 and "exists (use --force to overwrite)" in err
    assert (work / "autogpt-dev.toml").read_text() == "# mine\n"


def test_broken_files_are_skipped_never_a_traceback(tmp_path, monkeypatch, capsys):
    work = tmp_path / "odd"
    work.mkdir()
    (work / "pyproject.toml").write_text("[project\nname = ")
    (work / "broken.py").write_text("def f(:\n")
    (work / "latin.py").write_bytes(b"x = '\xe9'\n")
    monkeypatch.chdir(work)
    code, out, err = run(capsys, "init")
    assert code == 0 and "Traceback" not in err and "starter" in out
    assert run(capsys, "check")[0] == 0
