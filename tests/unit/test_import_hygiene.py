"""The engine must run without Textual: importing it must not pull textual or rich in."""

import subprocess
import sys

import pytest

HEADLESS_MODULES = [
    "tui_manager",
    "tui_manager.core.supervisor",
    "tui_manager.config",
    "tui_manager.headless",
    "tui_manager.runner",
    "tui_manager.control.server",
    "tui_manager.commands",
]


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_module_does_not_import_ui(module: str):
    code = (
        f"import sys, {module}\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
