"""The dashboard in a real terminal (tmux), as people use it: the sizes terminals start at,
keys typed fast, Ctrl+C, and the editor it hands the terminal to."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest

from services.settings import SERVICES, isolated_env
from tests.conftest import PY, fx, pid_alive, wait_until_sync
from tests.ui.tmux import Tmux

REPO = Path(__file__).resolve().parents[2]
UP = [PY, "-m", "tui_manager", "up"]


def events(root: Path, kind: str) -> list[dict[str, object]]:
    path = root / ".autogpt-dev/logs/events.jsonl"
    rows = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [r for r in rows if r["event"] == kind]


def test_the_default_stack_fits_80x24_with_a_failed_services_reason(tmp_path):
    shutil.copytree(REPO / "services", tmp_path / "services")
    config = (
        (REPO / "autogpt-dev.toml")
        .read_text()
        .replace(
            'command = "python -m services.scheduler"',
            'command = "python -m services.no_such_module"\nrestart = "no"',
        )
    )
    (tmp_path / "autogpt-dev.toml").write_text(config)
    env = {k: v for k, v in isolated_env(tmp_path / ".autogpt-dev").items()}
    with Tmux(tmp_path, UP, (80, 24), **env) as term:
        term.wait_for("5/6 ready")
        screen = term.screen()
        for name in SERVICES:
            assert name in screen, screen
        failed = next(ln for ln in screen.splitlines() if "scheduler" in ln)
        assert "failed" in failed and "exit 1" in failed, screen
        assert "? Help" in screen and "^p palette" in screen
        assert all(len(ln) <= 80 for ln in screen.splitlines())  # nothing scrolls sideways
        assert "▄" not in screen.splitlines()[8]  # (no horizontal scrollbar under the table)
        term.keys("q")
        assert term.exit_code() == 0


STACK = f"""
[services.alpha]
command = {fx("sleeper.py", "alpha")}
[services.beta]
command = {fx("sleeper.py", "beta")}
[services.gamma]
command = {fx("sleeper.py", "gamma")}
[services.fg]
command = {fx("sleeper.py", "fg")}
"""


def restarted(root: Path) -> list[object]:
    return [e["service"] for e in events(root, "restart")]


@pytest.mark.parametrize("attached", [False, True], ids=["dashboard", "attach"])
def test_keys_typed_in_one_burst_act_on_the_service_they_selected(tmp_path, attached):
    (tmp_path / "autogpt-dev.toml").write_text(STACK)
    headless = None
    if attached:  # the keys travel further: over the control socket to a headless stack
        import subprocess

        headless = subprocess.Popen(
            [*UP, "--headless"], cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
    command = [PY, "-m", "tui_manager", "attach"] if attached else UP
    try:
        if headless is not None:
            wait_until_sync(lambda: len(events(tmp_path, "ready")) == 4, 15)
        with Tmux(tmp_path, command, (100, 30)) as term:
            term.wait_for("4/4 ready")
            expected: list[object] = []
            for i in range(10):
                number, name = ("3", "gamma") if i % 2 == 0 else ("2", "beta")
                term.keys(number, "r")  # no pause between them
                expected.append(name)
                wait_until_sync(lambda: len(restarted(tmp_path)) == len(expected), 10)
                assert restarted(tmp_path) == expected
                term.wait_for("4/4 ready")
            term.keys("q")
            assert term.exit_code() == 0
    finally:
        if headless is not None:
            headless.terminate()
            assert headless.wait(20) == 0


def test_ctrl_c_stops_the_stack_and_twice_kills_at_once(tmp_path):
    (tmp_path / "autogpt-dev.toml").write_text(STACK)
    with Tmux(tmp_path, UP, (100, 30)) as term:
        term.wait_for("4/4 ready")
        pids = [e["pid"] for e in events(tmp_path, "spawn")]
        term.keys("C-c")
        assert term.exit_code() == 0
        assert not any(pid_alive(int(p)) for p in pids)  # type: ignore[call-overload]
    (tmp_path / "autogpt-dev.toml").write_text(
        STACK + f"[services.stubborn]\ncommand = {fx('ignore_term.py')}\nstop_timeout = 30\n"
    )
    os.unlink(tmp_path / ".autogpt-dev/logs/events.jsonl")
    with Tmux(tmp_path, UP, (100, 30)) as term:
        term.wait_for("5/5 ready")
        pids = [e["pid"] for e in events(tmp_path, "spawn")]
        term.keys("C-c")
        term.wait_for("stopping")
        term.keys("C-c")  # the second one: everything is killed now
        assert term.exit_code(timeout=5) == 130
        wait_until_sync(lambda: not any(pid_alive(int(p)) for p in pids), 2)  # type: ignore[call-overload]


API = """
    import time

    SETTINGS = {"port": 8000}


    def make_app():
        return SETTINGS["missing_setting"]


    make_app()
    while True:
        time.sleep(1)
"""


def test_a_crash_is_on_screen_with_its_line_and_e_opens_the_editor_there(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "api.py").write_text(textwrap.dedent(API))
    (tmp_path / "autogpt-dev.toml").write_text(
        f'[services.api]\ncommand = "{PY} -m app.api"\nready = {{ log = "never" }}\n'
        f"[services.fg]\ncommand = {fx('sleeper.py', 'fg')}\n"
    )
    record = tmp_path / "editor-argv.txt"
    editor = tmp_path / "record-editor"
    editor.write_text(f'#!/bin/sh\necho "$@" > {record}\n')
    editor.chmod(0o755)
    with Tmux(tmp_path, [*UP, "--dev"], (120, 30), EDITOR=str(editor), VISUAL="") as term:
        term.wait_for("KeyError: 'missing_setting' · app/api.py:8")
        term.keys("1", "e")
        wait_until_sync(record.exists, 10, "the editor ran")
        assert record.read_text().split() == ["+8", str(tmp_path / "app" / "api.py")]
        term.wait_for("KeyError: 'missing_setting' · app/api.py:8")  # the dashboard is back
        term.keys("q")
        assert term.exit_code() == 0


def test_a_lone_escape_and_keys_still_arrive_with_the_input_thread_asleep(tmp_path):
    """ui/driver.py: the input thread blocks until input comes, waking only for a half-read
    escape sequence. A lone ESC still gets its meaning after the parser's deadline (it closes
    the search), an arrow key is not taken for one, and q ends the process with the terminal
    restored (the shell prints after it)."""
    (tmp_path / "autogpt-dev.toml").write_text(STACK)
    with Tmux(tmp_path, UP, (100, 30)) as term:
        term.wait_for("4/4 ready")
        term.keys("/")
        term.wait_for("search the log")
        term.keys("Escape")  # nothing follows it: ESC, once the parser's deadline passes
        wait_until_sync(lambda: "search the log" not in term.screen(), 5, term.screen())
        term.keys("Down", "Down")  # escape sequences: the cursor moves, nothing else
        term.keys("q")
        assert term.exit_code(timeout=10) == 0
