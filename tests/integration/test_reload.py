"""Dev mode against a real temporary project of three services sharing a module, edited the ways
real editors, formatters and git write files. No fixed sleeps: a "nothing else restarted" is
asserted after a positive control (a later edit whose restart proves every earlier change has
been acted on)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from tests.conftest import PY, wait_until
from tests.helpers import Recorder, log_bytes, row, state
from tui_manager.config import load
from tui_manager.core import reload
from tui_manager.core.imports import ImportGraph, entry_points
from tui_manager.core.reload import Reloader
from tui_manager.core.supervisor import Supervisor

SERVICE = textwrap.dedent("""
    import json, os, time
    from app import shared
    greeting = json.dumps({{"GREETING": os.environ.get("GREETING")}})
    print("{name} up", shared.VERSION, greeting, flush=True)
    while True:
        time.sleep(1)
""")
NAMES = ("one", "two", "three")


def make_project(root: Path, modules: int = 0) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "shared.py").write_text("VERSION = 1\n")
    (root / "app" / "unrelated.py").write_text("X = 1\n")
    (root / "app" / "control.py").write_text("C = 1\n")  # imported by `three`: the control
    for name in NAMES:
        (root / "app" / f"{name}.py").write_text(SERVICE.format(name=name))
    three = root / "app" / "three.py"
    three.write_text("from app import control\n" + three.read_text())
    if modules:  # `one` and `two` import a package of many modules (for the git checkout)
        pkg = root / "app" / "many"
        pkg.mkdir()
        (pkg / "__init__.py").write_text(
            "".join(f"from app.many import m{i}\n" for i in range(modules))
        )
        for i in range(modules):
            (pkg / f"m{i}.py").write_text(f"V = {i}\n")
        for name in ("one", "two"):
            f = root / "app" / f"{name}.py"
            f.write_text("from app import many\n" + f.read_text())
    (root / ".env").write_text("GREETING=hello\n")
    (root / ".gitignore").write_text(".env\n.autogpt-dev/\n")  # as almost every project has it
    cfg = root / "autogpt-dev.toml"
    cfg.write_text(
        "".join(
            f'[services.{n}]\ncommand = "{PY} -m app.{n}"\nready = {{ log = "{n} up" }}\n'
            for n in NAMES
        )
    )
    return cfg


@asynccontextmanager
async def dev_stack(
    root: Path, prepare: Callable[[Path], None] | None = None, modules: int = 0
) -> AsyncIterator[tuple[Supervisor, Recorder]]:
    cfg = make_project(root, modules)
    if prepare:
        prepare(root)
    sup = Supervisor(load(cfg))
    seen = Recorder(sup)
    await sup.start()
    reloader = Reloader(sup)
    try:
        await wait_until(lambda: all(s.state == "ready" for s in sup.snapshot()), 15)
        await reloader.start()  # returns once the watcher is armed
        assert [e.extra.get("armed", True) for e in seen.lifecycle(None, "watching")] == [True]
        yield sup, seen
    finally:
        await reloader.stop()
        sup.request_shutdown()
        await sup.wait()


def spawns(sup: Supervisor) -> dict[str, int]:
    return {r.name: r.spawns for r in sup.snapshot()}


async def control(root: Path, sup: Supervisor, value: int) -> None:
    """The positive control: edit the file only `three` imports and wait for that restart.
    Changes are acted on in order, so every earlier one has been handled once it is ready."""
    before = row(sup, "three").spawns
    reloads = Recorder(sup)  # its `reload` event is the last thing the restart does
    (root / "app" / "control.py").write_text(f"C = {value}\n")
    await wait_until(lambda: row(sup, "three").spawns == before + 1, 10, "the control restart")
    await wait_until(lambda: state(sup, "three") == "ready", 10)
    await wait_until(lambda: reloads.lifecycle("three", "reload") != [], 10, "its reload event")
    reloads.stop()


def test_watch_set_is_the_import_closure(tmp_path):
    make_project(tmp_path)
    files, modules = entry_points([PY, "-m", "app.one"], tmp_path)
    got = ImportGraph(tmp_path, [tmp_path]).closure(files, modules)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in got)
    assert names == ["app/__init__.py", "app/one.py", "app/shared.py"]


async def test_editing_one_service_restarts_only_it(tmp_path):
    async with dev_stack(tmp_path) as (sup, seen):
        before = {r.name: r.pid for r in sup.snapshot()}
        (tmp_path / "app" / "two.py").write_text(SERVICE.format(name="two") + "X = 2\n")
        await wait_until(lambda: row(sup, "two").spawns == 2, 5, "two restarted")
        await control(tmp_path, sup, 2)
        after = {r.name: r.pid for r in sup.snapshot()}
        assert after["two"] != before["two"] and after["one"] == before["one"]
        assert [e.service for e in seen.lifecycle(event="reload")] == ["two", "three"]


# The ways files really get written. Each is one burst: each affected service restarts once.
def truncate_and_write(path: Path, text: str) -> None:
    with path.open("w") as f:  # in place: the file is empty for a moment
        f.flush()
        for part in (text[: len(text) // 2], text[len(text) // 2 :]):
            f.write(part)
            f.flush()


def temp_then_rename(path: Path, text: str) -> None:
    # vim without backupcopy: a probe file, a backup, a new file renamed over the old one.
    (path.parent / "4913").write_text("")
    (path.parent / "4913").unlink()
    os.rename(path, path.with_name(path.name + "~"))
    path.write_text(text)
    path.with_name(path.name + "~").unlink()


def jetbrains_safe_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + "___jb_tmp___")
    old = path.with_name(path.name + "___jb_old___")
    tmp.write_text(text)
    os.rename(path, old)
    os.rename(tmp, path)
    old.unlink()


def atomic_replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def save_storm(path: Path, text: str) -> None:
    for i in range(30):  # an editor autosaving on every keystroke
        path.write_text(text + f"# {'x' * i}\n")


PATTERNS = {
    "truncate-and-write": truncate_and_write,
    "temp-then-rename": temp_then_rename,
    "jetbrains-safe-write": jetbrains_safe_write,
    "atomic-replace": atomic_replace,
    "save-storm-30-writes": save_storm,
}


@pytest.mark.parametrize("pattern", list(PATTERNS))
async def test_each_save_pattern_restarts_each_affected_service_once(tmp_path, pattern):
    async with dev_stack(tmp_path) as (sup, _):
        PATTERNS[pattern](tmp_path / "app" / "shared.py", "VERSION = 2\n")
        await wait_until(lambda: all(n >= 2 for n in spawns(sup).values()), 5, "all three")
        await wait_until(lambda: all(s.state == "ready" for s in sup.snapshot()), 10)
        await control(tmp_path, sup, 2)
        assert spawns(sup) == {"one": 2, "two": 2, "three": 3}, pattern


async def test_a_formatter_rewriting_the_file_after_the_save_restarts_once(tmp_path):
    async with dev_stack(tmp_path) as (sup, _):
        shared = tmp_path / "app" / "shared.py"
        shared.write_text("VERSION=2\n")  # the save
        await wait_until(lambda: all(n == 2 for n in spawns(sup).values()), 5)
        await wait_until(lambda: all(s.state == "ready" for s in sup.snapshot()), 10)
        shared.write_text("VERSION = 2  # formatted\n")  # the formatter: same code
        await control(tmp_path, sup, 2)
        assert spawns(sup) == {"one": 2, "two": 2, "three": 3}
        shared.write_text("VERSION = 3\n")  # and a real change still restarts
        await wait_until(lambda: row(sup, "one").spawns == 3, 5)


async def test_git_checkout_of_50_files_restarts_each_affected_service_once(tmp_path):
    async with dev_stack(tmp_path, modules=50) as (sup, _):
        git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", str(tmp_path)]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", "base"], check=True)
        subprocess.run([*git, "checkout", "-qb", "feature"], check=True)
        for i in range(50):
            (tmp_path / "app" / "many" / f"m{i}.py").write_text(f"V = {i * 10}\n")
        subprocess.run([*git, "commit", "-qam", "feature"], check=True)
        await wait_until(lambda: row(sup, "one").spawns == 2, 10)  # (that commit's own writes)
        await control(tmp_path, sup, 2)
        subprocess.run([*git, "checkout", "-q", "master"], check=True)  # 50 files at once
        await wait_until(lambda: row(sup, "one").spawns == 3 and row(sup, "two").spawns == 3, 10)
        await control(tmp_path, sup, 3)
        assert spawns(sup) == {"one": 3, "two": 3, "three": 3}


async def test_an_unimported_file_restarts_nothing(tmp_path):
    async with dev_stack(tmp_path) as (sup, seen):
        (tmp_path / "app" / "unrelated.py").write_text("X = 2\n")
        (tmp_path / "notes.txt").write_text("hello")
        await control(tmp_path, sup, 2)
        assert [e.service for e in seen.lifecycle(event="reload")] == ["three"]


async def test_dotenv_edits_reach_the_restarted_services_though_gitignored(tmp_path):
    async with dev_stack(tmp_path) as (sup, _):
        assert '"GREETING": "hello"' in sup.history("one", 1)[0].text
        env = tmp_path / ".env"
        env.write_text("GREETING=bonjour\n")
        await wait_until(lambda: all(n == 2 for n in spawns(sup).values()), 10, "all restarted")
        await wait_until(lambda: all(s.state == "ready" for s in sup.snapshot()), 10)
        for name in NAMES:  # the new value, not the one the manager started with
            assert '"GREETING": "bonjour"' in sup.history(name, 1)[0].text
        assert "GREETING" not in os.environ  # and the manager's own environment is untouched
        env.write_text("# the greeting\nGREETING=bonjour\n")  # same values: nothing to do
        await control(tmp_path, sup, 2)
        assert spawns(sup) == {"one": 2, "two": 2, "three": 3}


async def test_a_service_env_file_restarts_only_its_service(tmp_path):
    def prepare(root: Path) -> None:
        (root / "two.env").write_text("GREETING=hi two\n")
        cfg = root / "autogpt-dev.toml"
        cfg.write_text(
            cfg.read_text().replace("[services.two]\n", '[services.two]\nenv_file = "two.env"\n')
        )

    async with dev_stack(tmp_path, prepare) as (sup, _):
        (tmp_path / "two.env").write_text("GREETING=hey two\n")
        await wait_until(lambda: row(sup, "two").spawns == 2, 10)
        await wait_until(lambda: state(sup, "two") == "ready", 10)
        assert '"GREETING": "hey two"' in sup.history("two", 1)[0].text
        await control(tmp_path, sup, 2)
        assert spawns(sup) == {"one": 1, "two": 2, "three": 2}


async def test_broken_edit_fails_then_fix_recovers(tmp_path):
    async with dev_stack(tmp_path) as (sup, _):
        one = tmp_path / "app" / "one.py"
        one.write_text("raise SystemExit('boom')\n")
        await wait_until(lambda: state(sup, "one") in ("backoff", "failed"), 10)
        one.write_text(SERVICE.format(name="one"))
        await wait_until(lambda: state(sup, "one") == "ready", 10, "one recovered")


async def test_config_edit_adds_a_service_and_keeps_the_others(tmp_path):
    async with dev_stack(tmp_path) as (sup, _):
        before = {r.name: r.pid for r in sup.snapshot()}
        cfg = tmp_path / "autogpt-dev.toml"
        cfg.write_text(cfg.read_text() + f'[services.four]\ncommand = "{PY} -m app.one"\n')
        await wait_until(lambda: "four" in sup.info.order, 5, "four added")
        await wait_until(lambda: state(sup, "four") == "ready", 10)
        assert {r.name: r.pid for r in sup.snapshot() if r.name != "four"} == before


async def test_invalid_config_edit_keeps_the_stack(tmp_path):
    async with dev_stack(tmp_path) as (sup, seen):
        cfg = tmp_path / "autogpt-dev.toml"
        cfg.write_text(cfg.read_text() + "[services.bad]\n")
        await wait_until(
            lambda: any(
                getattr(m, "lines", None) and "config not applied" in m.lines[0]
                for m in seen.messages
            ),
            5,
        )
        assert set(sup.info.order) == {"one", "two", "three"}
        assert json.dumps([s.state for s in sup.snapshot()]).count("ready") == 3


def test_entry_points_of_launchers(tmp_path):
    assert entry_points([PY, "-m", "uvicorn", "pkg.app:app", "--port", "1"], tmp_path) == (
        [],
        ["pkg.app"],
    )
    assert entry_points(["uvicorn", "--reload", "web:app"], tmp_path) == ([], ["web"])
    assert entry_points([PY, "-u", "run.py", "x"], tmp_path) == ([tmp_path / "run.py"], [])
    assert entry_points(["node", "server.js"], tmp_path) == ([], [])


async def test_gitignored_files_never_restart_anything(tmp_path):
    def prepare(root: Path) -> None:
        (root / ".gitignore").write_text(".env\napp/generated.py\n")
        (root / "app" / "generated.py").write_text("X = 1\n")
        one = root / "app" / "one.py"
        one.write_text("from app import generated\n" + one.read_text())

    async with dev_stack(tmp_path, prepare) as (sup, seen):
        (tmp_path / "app" / "generated.py").write_text("X = 2\n")  # imported, but ignored
        await control(tmp_path, sup, 2)
        assert [e.service for e in seen.lifecycle(event="reload")] == ["three"]


async def test_a_stopped_service_stays_stopped_through_edits(tmp_path):
    async with dev_stack(tmp_path) as (sup, _):
        await sup.stop_service("one")
        (tmp_path / "app" / "shared.py").write_text("VERSION = 5\n")
        await wait_until(lambda: row(sup, "two").spawns == row(sup, "three").spawns == 2, 5)
        await wait_until(lambda: state(sup, "three") == "ready", 10)  # the others restarted
        await control(tmp_path, sup, 2)
        assert state(sup, "one") == "stopped" and row(sup, "one").spawns == 1


async def test_the_first_comment_only_edit_of_a_file_restarts_nothing(tmp_path):
    async with dev_stack(tmp_path) as (sup, seen):
        shared = tmp_path / "app" / "shared.py"
        shared.write_text("# a comment, the first edit this file ever gets\nVERSION = 1\n")
        (tmp_path / "app" / "two.py").write_text(
            SERVICE.format(name="two") + "# and this one only gets a comment too\n"
        )
        await control(tmp_path, sup, 2)
        assert spawns(sup) == {"one": 1, "two": 1, "three": 2}
        assert [e.service for e in seen.lifecycle(event="reload")] == ["three"]


async def test_a_same_size_edit_in_the_same_second_runs_the_new_code(tmp_path, monkeypatch):
    """Python trusts a .pyc whose recorded source mtime (whole seconds) and size match: each
    edit here keeps the size and the second (set, so it is certain), as a digit changed twice
    within a second does. Every restart must print the version just written. The control: the
    same edit with the bytecode left in place restarts into the old code."""
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # as on a user's machine
    async with dev_stack(tmp_path) as (sup, _):
        shared = tmp_path / "app" / "shared.py"
        second = int(shared.stat().st_mtime)
        assert list((tmp_path / "app" / "__pycache__").glob("shared.*.pyc")), "compiled"

        async def edit(version: int) -> str:
            before = row(sup, "one").spawns
            shared.write_text(f"VERSION = {version}\n")  # the same size, in the same second
            os.utime(shared, (second, second))
            await wait_until(
                lambda: row(sup, "one").spawns == before + 1 and state(sup, "one") == "ready",
                10,
                f"one restarted for VERSION = {version}",
            )
            lines = log_bytes(sup, "one").decode().splitlines()
            return [ln for ln in lines if ln.startswith("one up")][-1]

        with monkeypatch.context() as m:
            m.setattr(reload, "drop_bytecode", lambda paths: None)
            assert (await edit(2)).startswith("one up 1 "), "the control runs the old code"
        for version in (3, 4, 5):
            assert (await edit(version)).startswith(f"one up {version} ")
