"""`python`'s own command line, read as CPython reads it: the watch set and the warm plan share
this one parser (base/pyargs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tui_manager.base.pyargs import PyCommand, parse
from tui_manager.core.imports import entry_points


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "app.solo", "x"], PyCommand([], "module", "app.solo", ["x"])),
        (
            ["-X", "dev", "-W", "error", "-m", "app.solo"],
            PyCommand(["-X", "dev", "-W", "error"], "module", "app.solo", []),
        ),
        (
            ["-Xdev", "-Werror::DeprecationWarning", "run.py", "-m", "y"],
            PyCommand(
                ["-X", "dev", "-W", "error::DeprecationWarning"], "path", "run.py", ["-m", "y"]
            ),
        ),
        (["-Xtracemalloc", "-m", "app"], PyCommand(["-X", "tracemalloc"], "module", "app", [])),
        (["-Bm", "mod", "a"], PyCommand(["-B"], "module", "mod", ["a"], frozenset("B"))),
        (["-mmod"], PyCommand([], "module", "mod", [])),
        (["-Bu", "s.py"], PyCommand(["-B", "-u"], "path", "s.py", [], frozenset("Bu"))),
        (["-c", "print(1)", "a"], PyCommand([], "command", "print(1)", ["a"])),
        (["-Ic", "pass"], PyCommand(["-I"], "command", "pass", [], frozenset("I"))),
        (["-", "a"], PyCommand([], "stdin", "", ["a"])),
        (["--", "-weird.py", "a"], PyCommand([], "path", "-weird.py", ["a"])),
        (
            ["--check-hash-based-pycs", "always", "s.py"],
            PyCommand(["--check-hash-based-pycs", "always"], "path", "s.py", []),
        ),
        (["-i", "s.py"], PyCommand(["-i"], "path", "s.py", [], frozenset("i"))),
        ([], PyCommand([], "none", "", [])),
        (["-X"], PyCommand([], "invalid", "-X", [])),
        (["-Z", "s.py"], PyCommand([], "invalid", "-Z", [])),
    ],
)
def test_parse_as_cpython(args: list[str], expected: PyCommand) -> None:
    assert parse(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["-X", "dev", "-W", "error", "-m", "probe_mod", "a", "-m", "b"],
        ["-Bm", "probe_mod", "-c", "x"],
        ["-Xdev", "-Werror::UserWarning", "probe_mod.py", "z"],
        ["-u", "--", "probe_mod.py", "-X"],
    ],
)
def test_the_real_interpreter_agrees(tmp_path: Path, args: list[str]) -> None:
    # The control: CPython itself runs the same target with the same arguments.
    (tmp_path / "probe_mod.py").write_text("import sys, json; print(json.dumps(sys.argv[1:]))\n")
    out = subprocess.run([sys.executable, *args], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    got = parse(args)
    assert got.mode in ("module", "path") and "probe_mod" in got.target
    assert out.stdout.strip() == __import__("json").dumps(got.args)


def test_the_watch_set_reads_options_with_values(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "solo.py").write_text("")
    files, modules = entry_points(
        [sys.executable, "-X", "dev", "-W", "error", "-m", "app.solo"], tmp_path
    )
    assert (files, modules) == ([], ["app.solo"])
    files, modules = entry_points([sys.executable, "-Bm", "app.solo"], tmp_path)
    assert modules == ["app.solo"]
