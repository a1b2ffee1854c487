"""The traceback parser against what Python really prints: each program below is run by the
interpreter of this test run (CI runs 3.11 and 3.13), its stderr parsed, coloured too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_manager.core.tracebacks import (
    TracebackReader,
    ends_in_traceback,
    record,
    sentence,
    summary,
)

PROGRAMS = {
    "plain": ("import app.config\n", "settings = {}\nVALUE = settings['missing_setting']\n"),
    "chained": (
        "from app import config\nconfig.load()\n",
        "def load():\n    try:\n        {}['x']\n    except KeyError as e:\n"
        "        raise ValueError('bad config') from e\n",
    ),
    "during": (
        "from app import config\nconfig.load()\n",
        "def load():\n    try:\n        1 / 0\n    except ZeroDivisionError:\n"
        "        undefined_name\n",
    ),
    "group": (
        "from app import config\nconfig.load()\n",
        "def load():\n    raise ExceptionGroup('startup', [ValueError('v'), TypeError('t')])\n",
    ),
    "syntax": ("from app import config\n", "x = (1,\ndef f():\n    pass\n"),
    "recursion": ("from app import config\nconfig.r(0)\n", "def r(n):\n    return r(n + 1)\n"),
}
EXPECTED = {
    "plain": ("KeyError", "'missing_setting'", 2, "<module>", ()),
    "chained": ("ValueError", "bad config", 5, "load", ("KeyError: 'x'",)),
    "during": (
        "NameError",
        "name 'undefined_name' is not defined",
        5,
        "load",
        ("ZeroDivisionError: division by zero",),
    ),
    "group": ("ExceptionGroup", "startup (2 sub-exceptions)", 2, "load", ()),
    "syntax": ("SyntaxError", "'(' was never closed", 1, None, ()),
    "recursion": ("RecursionError", "maximum recursion depth exceeded", 2, "r", ()),
}


def run(tmp_path: Path, name: str, colour: bool) -> bytes:
    main, config = PROGRAMS[name]
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "config.py").write_text(config)
    (tmp_path / "app" / "main.py").write_text(main)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PYTHON_COLORS")}
    if colour:
        env.update(FORCE_COLOR="1", PYTHON_COLORS="1")
    out = subprocess.run(
        [sys.executable, "-m", "app.main"], cwd=tmp_path, capture_output=True, env=env
    )
    assert out.returncode == 1
    return out.stderr


@pytest.mark.parametrize("colour", [False, True], ids=["plain", "coloured"])
@pytest.mark.parametrize("name", list(PROGRAMS))
def test_what_python_prints_is_read(tmp_path, name, colour):
    stderr = run(tmp_path, name, colour)
    reader = TracebackReader()
    reader.feed_block(stderr)
    reader.flush()
    err = ends_in_traceback([reader])
    assert err is not None, stderr.decode()
    rec = record(err, tmp_path)
    kind, message, line, function, chain = EXPECTED[name]
    assert (rec["type"], rec["message"], rec["file"], rec["line"]) == (
        kind,
        message,
        "app/config.py",
        line,
    )
    assert rec["function"] == function and tuple(rec["chain"]) == chain
    assert summary(rec) == f"{kind}: {message} · app/config.py:{line}"
    assert sentence("api", rec) == f"api crashed: {kind}: {message} at app/config.py:{line}"


def test_a_traceback_between_other_log_lines_one_line_at_a_time(tmp_path):
    lines = run(tmp_path, "chained", colour=False).decode().splitlines()
    noise = ["2026-12-06 10:00:00 INFO worker: heartbeat", "INFO:     127.0.0.1 - GET / 200"]
    mixed = [lines[0], noise[0], *lines[1:4], noise[1], *lines[4:]]
    reader = TracebackReader()
    for ln in ["starting", *mixed]:
        reader.feed(ln)
    reader.flush()
    err = ends_in_traceback([reader])
    assert err is not None and err.type == "ValueError" and err.chain == ("KeyError: 'x'",)


def test_only_an_ending_traceback_is_the_crash(tmp_path):
    reader = TracebackReader()
    reader.feed_block(run(tmp_path, "plain", colour=False))
    for i in range(30):  # it went on for a while after a logged traceback
        reader.feed(f"INFO still serving {i}")
    reader.flush()
    assert reader.errors and ends_in_traceback([reader]) is None


def test_a_flood_without_tracebacks_is_never_decoded():
    reader = TracebackReader()
    reader.feed_block(b"x" * 10 + b"\n" * 1000)
    assert reader.after == 1000 and not reader.errors


def test_frames_outside_the_project_are_never_the_project_frame(tmp_path):
    from tui_manager.core.tracebacks import Frame, PyError

    site = tmp_path / ".venv/lib/python3.11/site-packages/pkg/mod.py"
    err = PyError(
        "KeyError",
        "'x'",
        (
            Frame(str(tmp_path / "app/api.py"), 5, "make_app"),
            Frame(str(site), 9, "lookup"),
            Frame("<frozen runpy>", 88, "_run_code"),
        ),
    )
    assert record(err, tmp_path)["file"] == "app/api.py"
