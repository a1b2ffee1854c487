"""Which commands can start warm, and how (pure: resolves executables, starts nothing)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tui_manager.base.fmt import templates_summary
from tui_manager.core.warm.plan import WarmPlan, plan
from tui_manager.core.warm.templates import packaging_file, preload_list

PY = sys.executable
ENV = dict(os.environ)


def test_python_module_and_script_forms_keep_options_and_arguments():
    assert plan([PY, "-m", "app.svc", "--flag"], "/", ENV) == WarmPlan(
        [PY], "module", "app.svc", ["--flag"]
    )
    assert plan([PY, "-X", "dev", "-u", "run.py", "a"], "/", ENV) == WarmPlan(
        [PY, "-X", "dev", "-u"], "path", "run.py", ["a"]
    )


def test_console_scripts_with_a_python_shebang_are_warm(tmp_path: Path):
    script = tmp_path / "serve"
    script.write_text(f"#!{PY}\nimport sys\n")
    script.chmod(0o755)
    env_script = tmp_path / "manage.py"
    env_script.write_text("#!/usr/bin/env python3\n")
    env_script.chmod(0o755)
    env = {**ENV, "PATH": f"{Path(PY).parent}:{ENV['PATH']}"}
    assert plan([str(script), "app:app"], str(tmp_path), env) == WarmPlan(
        [PY], "path", str(script), ["app:app"]
    )
    got = plan([str(env_script), "runserver"], str(tmp_path), env)
    assert isinstance(got, WarmPlan) and got.mode == "path" and got.args == ["runserver"]


def test_what_cannot_start_warm_says_why(tmp_path: Path):
    shell = tmp_path / "run.sh"
    shell.write_text("#!/bin/sh\n")
    shell.chmod(0o755)
    assert plan(["sh", "-c", "x"], "/", ENV) == "not a Python command (sh)"
    assert plan([str(shell)], "/", ENV) == "not a Python command (run.sh)"
    assert plan([PY, "-c", "pass"], "/", ENV) == "python -c"
    assert plan([PY, "-Bc", "pass"], "/", ENV) == "python -c"
    assert plan([PY, "-i"], "/", ENV) == "python -i (interactive)"
    assert plan([PY], "/", ENV) == "python without a script or module"
    assert "no-such-program" in str(plan(["no-such-program"], "/", ENV))


def test_preload_is_third_party_and_launcher_runtime_never_the_project():
    uvicorn = WarmPlan([PY], "module", "uvicorn", ["app.main:app"])
    names = preload_list(("sqlalchemy.orm", "fastapi", "__main__"), uvicorn, False)
    assert {"fastapi", "sqlalchemy.orm", "uvicorn", "uvicorn.protocols.http.h11_impl"} <= set(names)
    # The launcher first (it runs before the app), then the app's own, in the cold order.
    assert (
        "__main__" not in names
        and names[0] == "uvicorn"
        and names[-2:]
        == [
            "sqlalchemy.orm",
            "fastapi",
        ]
    )
    ours = WarmPlan([PY], "module", "app.svc", [])
    assert preload_list({"aiohttp"}, ours, True) == ["aiohttp"]  # not app.svc itself


def test_packaging_files_are_the_ones_installs_come_from():
    for name in ("pyproject.toml", "uv.lock", "poetry.lock", "requirements-dev.txt", "setup.cfg"):
        assert packaging_file(Path(name)), name
    assert not packaging_file(Path("app.py")) and not packaging_file(Path("README.md"))


def test_templates_line_counts_what_is_running():
    assert templates_summary([None, {"state": "failed", "pid": None}]) == ""
    two = [
        {"state": "ready", "pid": 1, "rss": 40 * 2**20},
        {"state": "building", "pid": 2, "rss": 10 * 2**20},
        None,
    ]
    assert templates_summary(two) == "warm templates: 1 ready, 1 building, 50 MB"


def test_options_with_values_are_not_taken_for_the_script_or_for_dash_c():
    assert plan([PY, "-X", "dev", "-W", "error", "-m", "app.solo"], "/", ENV) == WarmPlan(
        [PY, "-X", "dev", "-W", "error"], "module", "app.solo", []
    )
    assert plan([PY, "-Werror::DeprecationWarning", "-Xtracemalloc", "run.py"], "/", ENV) == (
        WarmPlan([PY, "-W", "error::DeprecationWarning", "-X", "tracemalloc"], "path", "run.py", [])
    )
    assert plan([PY, "-Bm", "mod"], "/", ENV) == WarmPlan([PY, "-B"], "module", "mod", [])
    assert plan([PY, "-Ic", "pass"], "/", ENV) == "python -c"
    assert plan([PY, "-i", "x.py"], "/", ENV) == "python -i (interactive)"
