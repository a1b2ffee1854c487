"""The README's first set-up command, as a new user runs it: a fresh copy of the project, the
`python3` on PATH (CI puts the system's, externally managed, first), its own `.venv`, then the
default stack up (headless here) until all six services are ready, and `down`."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from services.settings import SERVICES, isolated_env
from tests.conftest import wait_until_sync

REPO = Path(__file__).resolve().parents[2]
NOT_COPIED = {".git", ".venv", ".venv-3.13", ".autogpt-dev", "__pycache__", ".mypy_cache"}


def readme_command(after: str) -> str:
    readme = (REPO / "README.md").read_text()
    match = re.search(re.escape(after) + r".*?```bash\n(.+?)\n```", readme, re.S)
    assert match, f"no command after {after!r}"
    return match.group(1)


def test_the_readmes_first_command_brings_the_default_stack_to_ready(tmp_path):
    command = readme_command("Run the default stack")
    *install, run = command.split(" && ")
    assert run == ".venv/bin/autogpt-dev up"
    python3 = shutil.which("python3")
    if python3 is None or subprocess.run([python3, "-m", "venv", "--help"]).returncode:
        pytest.skip("no python3 with venv on PATH")
    project = tmp_path / "autogpt-dev"
    shutil.copytree(REPO, project, ignore=lambda d, names: [n for n in names if n in NOT_COPIED])
    done = subprocess.run(
        " && ".join(install), shell=True, cwd=project, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(isolated_env(project / ".autogpt-dev"))
    env["PATH"] = os.environ["PATH"]  # the project's .venv is found by the manager itself
    out = project / "up.out"
    with out.open("w") as f:
        up = subprocess.Popen(
            [str(project / run.split()[0]), "up", "--headless"],
            cwd=project,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_sync(
            lambda: all(f"{s} ready" in out.read_text() for s in SERVICES),
            60,
            f"the six services ready:\n{out.read_text() if out.exists() else ''}",
        )
        # The services run on the project's own interpreter, not on the one running this test.
        status = subprocess.run(
            [str(project / ".venv/bin/autogpt-dev"), "check"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        assert str(project / ".venv") in status.stdout, status.stdout
        down = subprocess.run(
            [str(project / ".venv/bin/autogpt-dev"), "down"], cwd=project, env=env, timeout=60
        )
        assert down.returncode == 0
        assert up.wait(30) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
