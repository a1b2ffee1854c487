"""A crash named everywhere, and dev mode waiting for the fix (headless, as a user runs it)."""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
from pathlib import Path

from tests.conftest import PY, wait_until_sync
from tests.integration.test_cli import Up, cli

API = """
    import time

    SETTINGS = {{"port": 8000}}


    def make_app():
        return SETTINGS[{key!r}]


    make_app()
    print("api ready", flush=True)
    while True:
        time.sleep(1)
"""


def project(root: Path) -> None:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "api.py").write_text(textwrap.dedent(API.format(key="missing_setting")))
    (root / "autogpt-dev.toml").write_text(
        f'[services.api]\ncommand = "{PY} -m app.api"\nready = {{ log = "api ready" }}\n'
        f'[services.fg]\ncommand = ["{PY}", "-c", "import time; time.sleep(300)"]\n'
    )


def status(root: Path) -> dict[str, dict[str, object]]:
    """Every service's row; {} while the manager is not answering yet."""
    answer = cli("status", "--json", cwd=root)
    if answer.returncode:
        return {}
    return {r["name"]: r for r in json.loads(answer.stdout)["services"]}


def state(root: Path, name: str) -> object:
    return status(root).get(name, {}).get("state")


def test_dev_mode_names_a_start_up_crash_and_waits_for_the_fix(tmp_path):
    project(tmp_path)
    up = Up(tmp_path, "--dev")
    try:
        wait_until_sync(lambda: "watching" in up.output(), 15, "the watcher armed")
        wait_until_sync(lambda: state(tmp_path, "api") == "crashed", 10)
        out = up.output()
        assert "api crashed: KeyError: 'missing_setting' at app/api.py:8" in out
        api = status(tmp_path)["api"]
        expected = {"type": "KeyError", "message": "'missing_setting'", "file": "app/api.py"}
        assert api["last_error"] == {**expected, "line": 8, "function": "make_app", "chain": []}
        assert api["reason"] == (
            "KeyError: 'missing_setting' · app/api.py:8 · waiting for a change"
        )
        errors = json.loads(cli("errors", "--json", cwd=tmp_path).stdout)
        assert [(e["service"], e["type"], e["line"], e["count"]) for e in errors] == [
            ("api", "KeyError", 8, 1)
        ]
        # Waiting: no backoff, no second spawn (the control below proves a change is seen).
        assert api["spawns"] == 1 and api["restarts"] == 0
        (tmp_path / "app" / "api.py").write_text(textwrap.dedent(API.format(key="port")))
        wait_until_sync(lambda: state(tmp_path, "api") == "ready", 15, "the fix")
        assert status(tmp_path)["api"]["spawns"] == 2
        # The traceback in the log has nothing of the manager's, exactly as python prints it.
        log = (tmp_path / ".autogpt-dev/logs/api.log").read_text()
        first = log[
            : log.index("KeyError: 'missing_setting'\n") + len("KeyError: 'missing_setting'\n")
        ]
        (tmp_path / "app" / "api.py").write_text(textwrap.dedent(API.format(key="missing_setting")))
        cold = subprocess.run([PY, "-m", "app.api"], cwd=tmp_path, capture_output=True, text=True)
        assert first == cold.stderr
        assert "tui_manager" not in first and "<string>" not in first
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_outside_dev_mode_a_start_up_crash_keeps_the_restart_policy(tmp_path):
    project(tmp_path)
    cfg = tmp_path / "autogpt-dev.toml"
    cfg.write_text(cfg.read_text().replace("[services.fg]", "backoff = 0.1\n[services.fg]"))
    up = Up(tmp_path)
    try:
        wait_until_sync(lambda: status(tmp_path).get("api", {}).get("spawns", 0) >= 2, 10)
        assert "api crashed: KeyError: 'missing_setting' at app/api.py:8" in up.output()
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0


def test_errors_reads_the_files_when_no_stack_runs(tmp_path):
    project(tmp_path)
    up = Up(tmp_path)
    try:
        wait_until_sync(lambda: "api crashed" in up.output(), 10)
    finally:
        up.proc.send_signal(signal.SIGTERM)
        assert up.finish() == 0
    table = cli("errors", cwd=tmp_path)
    assert table.returncode == 0
    assert table.stdout.splitlines()[1].split()[:5] == [
        "api",
        "KeyError:",
        "'missing_setting'",
        "app/api.py:8",
        table.stdout.splitlines()[1].split()[4],
    ]
    assert cli("errors", "nosuch", cwd=tmp_path).returncode == 2
