"""What each command imports, measured in real processes with `-X importtime`: the control
commands never import pydantic or Textual, headless never imports Textual, and once a config has
been validated (the cache is warm) `up` does not import pydantic either. The positive control: a
cold cache makes `check` import pydantic, and the same measurement sees it."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import PY, fx, wait_until_sync

HEAVY = {"pydantic", "pydantic_core", "pydantic_settings", "textual", "rich"}

STACK = f"""
[services.db]
command = {fx("sleeper.py", "db")}
[services.fg]
command = {fx("sleeper.py", "fg")}
depends_on = ["db"]
"""


def top_level_imports(importtime_stderr: str) -> set[str]:
    return {
        line.split("|")[2].strip().split(".")[0]
        for line in importtime_stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def heavy(args: list[str], cwd: Path, env: dict[str, str]) -> set[str]:
    r = subprocess.run(
        [PY, "-X", "importtime", "-m", "tui_manager", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, f"{args}: {r.stdout}{r.stderr[-2000:]}"
    return top_level_imports(r.stderr) & HEAVY


def test_control_commands_and_headless_import_neither_pydantic_nor_textual(write_config, tmp_path):
    path = write_config(STACK)
    cwd = path.parent
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}  # a cold validation cache

    # The positive control: validating for the first time needs pydantic, and we see it.
    assert {"pydantic", "pydantic_core"} <= heavy(["check"], cwd, env)

    out = (tmp_path / "up.out").open("w")
    err = (tmp_path / "up.err").open("w")
    up = subprocess.Popen(
        [PY, "-X", "importtime", "-m", "tui_manager", "up", "--headless"],
        cwd=cwd,
        env=env,
        stdout=out,
        stderr=err,
    )
    try:
        wait_until_sync(lambda: "fg ready" in (tmp_path / "up.out").read_text(), 20, "fg ready")
        for args in (
            ["status"],
            ["status", "--json"],
            ["logs", "fg", "-n", "5"],
            ["restart", "db"],
            ["stop", "db"],
            ["start", "db"],
            ["check"],  # the cache is warm now
            ["down"],
        ):
            assert heavy(args, cwd, env) == set(), args
        assert up.wait(20) == 0
    finally:
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            up.wait(20)
        out.close()
        err.close()
    assert top_level_imports((tmp_path / "up.err").read_text()) & HEAVY == set()
