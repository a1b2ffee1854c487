"""`python` in a service's command is the project's interpreter, as with `uv run`, even when the
console script runs from a virtualenv that is not activated (an IDE, `.venv/bin/autogpt-dev`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PY

PRINT_PREFIX = """
[services.show]
command = ["python", "-c", "import os, sys; print('prefix', sys.prefix, os.getenv('VIRTUAL_ENV'))"]
"""
BARE_PATH = "/usr/bin:/bin"  # what an IDE or a cron job gives: no venv on it


def bare(*args: str, cwd: Path) -> str:
    """autogpt-dev run as an IDE would: a bare PATH, no venv activated."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = BARE_PATH
    r = subprocess.run(
        [PY, "-m", "tui_manager", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def up(cwd: Path) -> str:
    out = bare("up", "--headless", cwd=cwd)
    return next(line.split("| ", 1)[1] for line in out.splitlines() if "| prefix " in line)


@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="needs the tests to run in a venv")
def test_the_venv_the_manager_runs_in_comes_first_when_not_activated(tmp_path):
    (tmp_path / "autogpt-dev.toml").write_text(PRINT_PREFIX)
    assert up(tmp_path) == f"prefix {sys.prefix} {sys.prefix}"


def test_the_projects_own_venv_is_preferred(tmp_path):
    subprocess.run(
        [sys.base_prefix + "/bin/python3", "-m", "venv", "--without-pip", str(tmp_path / ".venv")],
        check=True,
    )
    (tmp_path / "autogpt-dev.toml").write_text(PRINT_PREFIX)
    project = tmp_path / ".venv"
    assert up(tmp_path) == f"prefix {project} {project}"
    out = bare("check", cwd=tmp_path)
    assert f"python: {project}/bin/python (venv: {project}, the project's .venv)" in out


def test_venv_false_leaves_path_alone(tmp_path):
    (tmp_path / "autogpt-dev.toml").write_text(
        "[manager]\nvenv = false\n"
        "[services.show]\ncommand = \"sh -c 'echo prefix $PATH $VIRTUAL_ENV'\"\n"
    )
    assert up(tmp_path).strip() == f"prefix {BARE_PATH}"
