"""The engine must run without Textual: importing any module outside the UI must not pull
textual or rich in. Every module is covered (found by walking the package), not a chosen list;
import-linter checks the same statically in .ci/run, this checks what really gets imported."""

import pkgutil
import subprocess
import sys

import tui_manager

UI_PREFIXES = ("tui_manager.ui", "tui_manager.commands.up")  # up imports the UI on a terminal
UI_MODULES = ("textual", "rich")


def non_ui_modules() -> list[str]:
    found = [
        m.name
        for m in pkgutil.walk_packages(tui_manager.__path__, "tui_manager.")
        if not m.name.startswith(UI_PREFIXES) and m.name != "tui_manager.__main__"  # it runs
    ]
    return ["tui_manager", *found]


def imported_ui(modules: list[str]) -> list[str]:
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(UI_MODULES)!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return eval(out.stdout)  # a printed list of names


def test_the_walk_finds_the_engine_and_the_views():
    mods = non_ui_modules()
    assert len(mods) > 40
    for expected in ("tui_manager.core.supervisor", "tui_manager.headless", "tui_manager.runner"):
        assert expected in mods


def test_no_module_outside_the_ui_imports_textual_or_rich():
    mods = non_ui_modules()
    if imported_ui(mods):  # name the culprit, one fresh interpreter each
        culprits = [m for m in mods if imported_ui([m])]
        raise AssertionError(f"these modules import textual/rich: {culprits}")


def test_the_check_itself_can_fail():
    # The positive control: the dashboard module does import Textual, and the check sees it.
    assert imported_ui(["tui_manager.ui.app"]) == ["rich", "textual"]
