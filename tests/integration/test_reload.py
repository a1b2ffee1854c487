"""Dev mode against a real temporary project of three services sharing a module."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from tests.conftest import PY, wait_until
from tests.helpers import row, state
from tui_manager.config import load
from tui_manager.core.events import Lifecycle, Message
from tui_manager.core.imports import ImportGraph, entry_points
from tui_manager.core.reload import Reloader
from tui_manager.core.supervisor import Supervisor

SERVICE = textwrap.dedent("""
    import time
    from app import shared
    print("{name} up", shared.VERSION, flush=True)
    while True:
        time.sleep(1)
""")


def make_project(root: Path) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "shared.py").write_text("VERSION = 1\n")
    (root / "app" / "unrelated.py").write_text("X = 1\n")
    for name in ("one", "two", "three"):
        (root / "app" / f"{name}.py").write_text(SERVICE.format(name=name))
    cfg = root / "autogpt-dev.toml"
    cfg.write_text(
        "".join(
            f'[services.{n}]\ncommand = "{PY} -m app.{n}"\nready = {{ log = "{n} up" }}\n'
            for n in ("one", "two", "three")
        )
    )
    return cfg


@asynccontextmanager
async def dev_stack(
    root: Path, prepare: Callable[[Path], None] | None = None
) -> AsyncIterator[tuple[Supervisor, list[Message]]]:
    cfg = make_project(root)
    if prepare:
        prepare(root)
    sup = Supervisor(load(cfg))
    seen: list[Message] = []
    sup.bus.subscribe(seen.append)
    await sup.start()
    reloader = Reloader(sup)
    await reloader.start()
    try:
        await wait_until(lambda: all(s.state == "ready" for s in sup.snapshot()), 15)
        await wait_until(
            lambda: any(isinstance(m, Lifecycle) and m.event == "watching" for m in seen), 5
        )
        await asyncio.sleep(0.3)  # let the OS watcher arm before the first edit
        yield sup, seen
    finally:
        await reloader.stop()
        sup.request_shutdown()
        await asyncio.wait_for(sup.wait(), 20)


def pids(sup: Supervisor) -> dict[str, int]:
    return {n: s.child.pid for n, s in sup.services.items() if s.child}  # type: ignore[misc]


def reloads(seen: list[Message]) -> list[str]:
    return [m.service for m in seen if isinstance(m, Lifecycle) and m.event == "reload"]  # type: ignore[misc]


def test_watch_set_is_the_import_closure(tmp_path):
    make_project(tmp_path)
    files, modules = entry_points([PY, "-m", "app.one"], tmp_path)
    got = ImportGraph(tmp_path, [tmp_path]).closure(files, modules)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in got)
    assert names == ["app/__init__.py", "app/one.py", "app/shared.py"]


async def test_editing_one_service_restarts_only_it(tmp_path):
    async with dev_stack(tmp_path) as (sup, seen):
        before = pids(sup)
        (tmp_path / "app" / "two.py").write_text(SERVICE.format(name="two") + "\n# edit\n")
        await wait_until(lambda: row(sup, "two").spawns == 2, 5, "two restarted")
        await wait_until(lambda: state(sup, "two") == "ready", 10)
        after = pids(sup)
        assert after["two"] != before["two"]
        assert after["one"] == before["one"] and after["three"] == before["three"]
        assert reloads(seen) == ["two"]


async def test_editing_the_shared_module_restarts_all_three_once(tmp_path):
    async with dev_stack(tmp_path) as (sup, seen):
        shared = tmp_path / "app" / "shared.py"
        for i in range(50):  # a save storm: one restart per service
            shared.write_text(f"VERSION = {i}\n")
        await wait_until(lambda: all(s.spawns >= 2 for s in sup.snapshot()), 5)
        await wait_until(lambda: all(s.state == "ready" for s in sup.snapshot()), 10)
        await asyncio.sleep(0.5)  # any late, duplicate restart would show up here
        assert sorted(reloads(seen)) == ["one", "three", "two"]
        assert all(s.spawns == 2 for s in sup.snapshot())


async def test_editing_an_unimported_file_restarts_nothing(tmp_path):
    async with dev_stack(tmp_path) as (_, seen):
        (tmp_path / "app" / "unrelated.py").write_text("X = 2\n")
        (tmp_path / "notes.txt").write_text("hello")
        await asyncio.sleep(1.0)  # nothing must happen: wait out debounce + a restart's time
        assert reloads(seen) == []


async def test_broken_edit_fails_then_fix_recovers(tmp_path):
    async with dev_stack(tmp_path) as (sup, _):
        one = tmp_path / "app" / "one.py"
        one.write_text("raise SystemExit('boom')\n")
        await wait_until(lambda: state(sup, "one") in ("backoff", "failed"), 10)
        one.write_text(SERVICE.format(name="one"))
        await wait_until(lambda: state(sup, "one") == "ready", 10, "one recovered")


async def test_config_edit_adds_a_service_and_keeps_the_others(tmp_path):
    async with dev_stack(tmp_path) as (sup, _):
        before = pids(sup)
        cfg = tmp_path / "autogpt-dev.toml"
        cfg.write_text(cfg.read_text() + f'[services.four]\ncommand = "{PY} -m app.one"\n')
        await wait_until(lambda: "four" in sup.services, 5, "four added")
        await wait_until(lambda: state(sup, "four") == "ready", 10)
        assert {n: p for n, p in pids(sup).items() if n != "four"} == before


async def test_invalid_config_edit_keeps_the_stack(tmp_path):
    async with dev_stack(tmp_path) as (sup, seen):
        cfg = tmp_path / "autogpt-dev.toml"
        cfg.write_text(cfg.read_text() + "[services.bad]\n")
        await wait_until(
            lambda: any(
                getattr(m, "lines", None) and "config not applied" in m.lines[0] for m in seen
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
        (root / ".gitignore").write_text("app/generated.py\n")
        (root / "app" / "generated.py").write_text("X = 1\n")
        one = root / "app" / "one.py"
        one.write_text("from app import generated\n" + one.read_text())

    async with dev_stack(tmp_path, prepare) as (_, seen):
        (tmp_path / "app" / "generated.py").write_text("X = 2\n")  # imported, but ignored
        await asyncio.sleep(1.0)  # nothing must happen: wait out debounce + a restart's time
        assert reloads(seen) == []
